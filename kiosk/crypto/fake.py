"""The fake :class:`~kiosk.services.ports.Sealer`, shipped beside the real envelope sealer (as
gpiozero ships its mock pins): records stay readable JSON, for tests and offline demos that
have no portal key. Never wired by the composition root for a real kiosk."""

from __future__ import annotations

import json
from typing import Any


class JsonSealer:
    """Seals a record as JSON bytes (no crypto) and keeps what it sealed, in order."""

    def __init__(self) -> None:
        self.sealed: list[dict[str, Any]] = []

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """The JSON of ``{kind, record_id, record}``; the record is also kept in ``sealed``."""
        self.sealed.append(record)
        return json.dumps({"kind": kind, "record_id": record_id, "record": record}).encode()

    @staticmethod
    def open(payload: bytes) -> dict[str, Any]:
        """What :meth:`seal` made, read back (the portal's side of this fake)."""
        found = json.loads(payload)
        assert isinstance(found, dict)
        return found
