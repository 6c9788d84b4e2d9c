"""One store interface for the ingest workers, two backends in a registry.

``sqlite`` (the embedded default: the demo and small tests) wraps :class:`portal.store.PortalStore`;
``postgres`` (:mod:`portal.ingest.postgres`) is what N workers share at scale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from portal.store import Incoming, PortalStore


@dataclass(frozen=True)
class Beat:
    """The latest heartbeat of one device in a batch; ``text`` is its validated JSON."""

    message: dict[str, Any]
    text: str
    at: float


@dataclass
class Batch:
    """Everything one transaction writes: records, latest heartbeats, availability, refusals."""

    now: float
    records: list[Incoming] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # each record's JSON, as stored
    heartbeats: dict[str, Beat] = field(default_factory=dict)
    availability: dict[str, tuple[str, float]] = field(default_factory=dict)
    rejections: list[tuple[str, str | None, str, float]] = field(default_factory=list)

    def add(self, record: Incoming) -> str | None:
        """Add a record (serialised once, here); the reason instead if no database can hold it."""
        text = dumps(record.record)
        why = unstorable(text)
        if why is None:
            self.records.append(record)
            self.texts.append(text)
        return why


class IngestStore(Protocol):
    """What an ingest worker needs from its database."""

    def write(self, batch: Batch) -> list[bool]:
        """Commit the batch in one transaction; per record True where new, False if held."""
        ...

    def held(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (device id, record id) are stored."""
        ...

    def record_ids(self, device_id: str | None = None) -> list[str]:
        """Stored record ids (optionally of one device)."""
        ...

    def rejections(self) -> list[tuple[str, str | None, str]]:
        """(device_id, record_id, reason) of every refusal."""
        ...

    def latest_heartbeat(self, device_id: str) -> dict[str, Any] | None:
        """The last heartbeat of a device."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class SqliteIngestStore:
    """The embedded backend: the reference receiver's SQLite store behind the same interface."""

    def __init__(self, target: str | PortalStore) -> None:
        self._store = target if isinstance(target, PortalStore) else PortalStore(Path(target))

    def write(self, batch: Batch) -> list[bool]:
        """Refusals, heartbeats and availability first, then the records in one transaction."""
        for device_id, record_id, reason, at in batch.rejections:
            self._store.reject(device_id, record_id, reason, at)
        for device_id, beat in batch.heartbeats.items():
            self._store.heartbeat(device_id, beat.message, beat.at)
        for device_id, (state, at) in batch.availability.items():
            self._store.availability(device_id, state, at)
        return self._store.put_many(batch.records, batch.now) if batch.records else []

    def held(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these are stored."""
        return {k for k in keys if self._store.get(*k) is not None}

    def record_ids(self, device_id: str | None = None) -> list[str]:
        """Stored record ids."""
        return self._store.record_ids(device_id)

    def rejections(self) -> list[tuple[str, str | None, str]]:
        """Every refusal."""
        return self._store.rejections()

    def latest_heartbeat(self, device_id: str) -> dict[str, Any] | None:
        """The last heartbeat of a device."""
        return self._store.latest_heartbeat(device_id)

    def close(self) -> None:
        """Close the database."""
        self._store.close()


def _postgres(target: str) -> IngestStore:
    from portal.ingest.postgres import PostgresIngestStore  # psycopg only where it is used

    return PostgresIngestStore(target)


BACKENDS: dict[str, Callable[[str], IngestStore]] = {
    "sqlite": SqliteIngestStore,
    "postgres": _postgres,
}
"""Backend name -> factory taking its target (a file path for sqlite, a DSN for postgres)."""


def open_store(backend: str, target: str) -> IngestStore:
    """Open the store ``backend`` at ``target``; a clear error for an unknown name."""
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ValueError(
            f"unknown portal store {backend!r}: choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(target)


def dumps(record: dict[str, Any]) -> str:
    """Compact JSON for a stored record."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # a JSON \u0000 escape, not an escaped backslash


def unstorable(text: str) -> str | None:
    """Why a record's JSON cannot go into a PostgreSQL jsonb column (NUL, lone surrogate)."""
    if _NUL.search(text):
        return "record holds a NUL character, which the portal database cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "record holds an unpaired surrogate, which is not valid Unicode text"
    return None
