"""Inbound reference messages from the portal: validate, then install or purge, logging why not.

The uplink's inbound table hands the raw payloads of the ``references`` and
``references_revoke`` topics to :class:`ReferenceInbox`; nothing reaches the store unless the
schema, version and the portal's signature all check out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.core.clock import Clock
from kiosk.references.message import RejectedMessage, parse_reference_set, parse_revocation
from kiosk.references.store import ReferenceStore, StaleReferenceSet

log = logging.getLogger(__name__)


class ReferenceInbox:
    """Applies validated reference-set and revoke messages to the store."""

    def __init__(
        self,
        store: ReferenceStore,
        *,
        trusted: Sequence[Ed25519PublicKey] | Callable[[], Sequence[Ed25519PublicKey]],
        village_code: str,
        clock: Clock,
    ) -> None:
        self._store = store
        self._trusted = trusted
        self._village = village_code
        self._clock = clock
        self.rejected: dict[str, int] = {}

    def _keys(self) -> Sequence[Ed25519PublicKey]:
        return self._trusted() if callable(self._trusted) else self._trusted

    def _reject(self, what: str, reason: str, detail: str) -> bool:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        log.warning("%s rejected (%s): %s", what, reason, detail)
        return False

    def on_reference_set(self, payload: bytes) -> bool:
        """Validate and install a reference set; False (logged with its reason) if refused."""
        if not payload:
            return self._reject("reference set", "empty", "empty retained message ignored")
        try:
            refs = parse_reference_set(
                payload, trusted=self._keys(), village_code=self._village, now=self._clock.now()
            )
            info = self._store.info(self._village)
            if info is not None and info.state == "active" and info.set_version == refs.version:
                log.debug("reference set v%d already installed (retained copy)", refs.version)
                return True
            self._store.replace(refs)
        except RejectedMessage as err:
            return self._reject("reference set", err.reason, str(err))
        except StaleReferenceSet as err:
            return self._reject("reference set", "stale_version", str(err))
        return True

    def on_revoke(self, payload: bytes) -> bool:
        """Validate a revocation and purge the set it names; False if refused or nothing held."""
        if not payload:
            return self._reject("revocation", "empty", "empty retained message ignored")
        try:
            revocation = parse_revocation(payload, trusted=self._keys(), village_code=self._village)
        except RejectedMessage as err:
            return self._reject("revocation", err.reason, str(err))
        return self._store.revoke(revocation)

    def housekeeping(self) -> int:
        """Purge expired sets (call periodically and at start); return how many were purged."""
        return self._store.purge_expired()
