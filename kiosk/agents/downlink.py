"""Household updates from the portal on the signed ``household_update`` topic."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.agents.service import AgentService
from kiosk.crypto.signed import RejectedMessage, sign_message, verify_message
from kiosk.errors import FormError, KioskError, ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024
"""Largest household update accepted, bytes."""


def sign_update(message: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The portal's side: ``{household_id, version, updated_at, household}`` signed, as bytes."""
    return sign_message({"v": 1, "kind": Name.HOUSEHOLD_UPDATE, **message}, key)


def parse_update(payload: bytes, trusted: Iterable[Ed25519PublicKey]) -> dict[str, Any]:
    """Size, schema and signature checks; the update fields for ``apply_roster_update``."""
    if len(payload) > MAX_BYTES:
        raise ProtocolError(f"household update too large ({len(payload)} bytes)")
    data = messages.parse(Name.HOUSEHOLD_UPDATE, payload)
    try:
        verify_message(data, trusted)
    except RejectedMessage as err:
        raise ProtocolError(f"household update refused: {err}") from err
    return {k: data[k] for k in ("household_id", "version", "updated_at", "household")}


class HouseholdUpdateHandler:
    """``Uplink.on_signed(Name.HOUSEHOLD_UPDATE, handler)``: verify, then merge into the roster."""

    def __init__(
        self, service: AgentService, trusted: Callable[[], Iterable[Ed25519PublicKey]]
    ) -> None:
        self._service = service
        self._trusted = trusted
        self.rejected = 0

    def __call__(self, payload: bytes, correlation: bytes | None = None) -> bool:
        """Apply one update; False (logged, counted) when it is refused."""
        try:
            update = parse_update(payload, self._trusted())
            self._service.apply_roster_update(update)
        except (ProtocolError, FormError, KioskError) as err:
            self.rejected += 1
            log.warning("household update refused: %s", err)
            return False
        return True
