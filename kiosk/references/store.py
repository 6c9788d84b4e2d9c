"""The village reference set on the device: sealed at rest, replaced by version, purged on time.

Each set gets a fresh random key for the NIK lookup hashes; that key and every entry are sealed
with the device's :class:`~kiosk.crypto.atrest.AtRestCipher`. Replacing, expiring and revoking
each happen in one SQLite transaction, so a kiosk never holds half a set. A purged set keeps
its row (without key or entries) as a high-water mark: an older or revoked version is refused.
Nothing here exports the references: they never leave the device.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass

from kiosk.core.clock import Clock
from kiosk.crypto.atrest import AtRestCipher, keyed_hash
from kiosk.errors import CryptoError, ProtocolError
from kiosk.references.message import ReferenceSet, Revocation
from kiosk.store.db import transaction

log = logging.getLogger(__name__)

SOURCE = "village_set"
"""The decision-policy source name of a reference found here."""


class StaleReferenceSet(ProtocolError):
    """A reference set is not newer than the one installed (or was revoked)."""


@dataclass(frozen=True)
class Reference:
    """One resident's reference as the verifier needs it."""

    template: bytes
    kk: str
    initials: str
    village_code: str
    set_version: int
    source: str = SOURCE

    def __repr__(self) -> str:  # never print personal data
        return f"Reference(<redacted>, village={self.village_code}, v{self.set_version})"


@dataclass(frozen=True)
class SetInfo:
    """Metadata of a village's reference set (no personal data): for status screens and logs."""

    village_code: str
    set_version: int
    state: str  # active | expired | revoked
    entries: int
    issued_at: float | None
    expires_at: float | None
    installed_at: float
    reason: str | None
    portal_kid: str | None


class ReferenceStore:
    """Repository of the village reference set; thread-safe (one lock around the connection)."""

    def __init__(self, conn: sqlite3.Connection, cipher: AtRestCipher, clock: Clock) -> None:
        self._conn = conn
        self._cipher = cipher
        self._clock = clock
        self._lock = threading.RLock()
        self._keys: dict[tuple[str, int], bytes] = {}

    @property
    def clock(self) -> Clock:
        """The injected clock (expiry is judged on its wall time)."""
        return self._clock

    # --- writing -------------------------------------------------------------------------
    def replace(self, refs: ReferenceSet) -> SetInfo:
        """Install ``refs`` in place of the village's current set, atomically.

        Raises :class:`StaleReferenceSet` when its version is not newer than the installed
        one, or was revoked.
        """
        now = self._clock.now()
        if refs.expires_at <= now:
            raise StaleReferenceSet(f"reference set v{refs.version} has already expired")
        key = os.urandom(32)
        rows = []
        for entry in refs.entries:
            nik_hmac = keyed_hash(key, "reference-nik", entry.nik)
            blob = json.dumps(
                {
                    "t": base64.b64encode(entry.template).decode("ascii"),
                    "kk": entry.kk,
                    "i": entry.initials,
                },
                separators=(",", ":"),
            ).encode()
            purpose = _entry_purpose(refs.village_code, refs.version, nik_hmac)
            rows.append((refs.village_code, nik_hmac, self._cipher.seal(blob, purpose)))
        with self._lock, transaction(self._conn) as conn:
            current = conn.execute(
                "SELECT set_version, min_version FROM reference_set WHERE village_code = ?",
                (refs.village_code,),
            ).fetchone()
            if current is not None:
                version, min_version = current
                if refs.version < min_version:
                    raise StaleReferenceSet(
                        f"reference set v{refs.version} was revoked (need v{min_version} or newer)"
                    )
                if refs.version <= version:
                    raise StaleReferenceSet(
                        f"reference set v{refs.version} is not newer than installed v{version}"
                    )
            conn.execute("DELETE FROM reference_entry WHERE village_code = ?", (refs.village_code,))
            conn.execute(
                "INSERT INTO reference_set (village_code, set_version, min_version, state, "
                "issued_at, expires_at, installed_at, portal_kid, entries, key_sealed, reason) "
                "VALUES (?, ?, 1, 'active', ?, ?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT(village_code) DO UPDATE SET set_version = excluded.set_version, "
                "state = 'active', issued_at = excluded.issued_at, "
                "expires_at = excluded.expires_at, installed_at = excluded.installed_at, "
                "portal_kid = excluded.portal_kid, entries = excluded.entries, "
                "key_sealed = excluded.key_sealed, reason = NULL",
                (
                    refs.village_code,
                    refs.version,
                    refs.issued_at,
                    refs.expires_at,
                    now,
                    refs.kid,
                    len(rows),
                    self._cipher.seal(key, _key_purpose(refs.village_code, refs.version)),
                ),
            )
            conn.executemany(
                "INSERT INTO reference_entry (village_code, nik_hmac, sealed) VALUES (?, ?, ?)",
                rows,
            )
            self._keys = {k: v for k, v in self._keys.items() if k[0] != refs.village_code}
        log.info(
            "reference set v%d installed for village %s (%d entries)",
            refs.version,
            refs.village_code,
            len(rows),
        )
        info = self.info(refs.village_code)
        assert info is not None
        return info

    def revoke(self, revocation: Revocation) -> bool:
        """Purge the village's set when its version is at most the revoked one; True if purged.

        Either way, versions up to the revoked one can never be installed afterwards.
        """
        with self._lock, transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT set_version, state FROM reference_set WHERE village_code = ?",
                (revocation.village_code,),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO reference_set (village_code, set_version, min_version, state, "
                    "installed_at, reason) VALUES (?, ?, ?, 'revoked', ?, ?)",
                    (
                        revocation.village_code,
                        revocation.version,
                        revocation.version + 1,
                        self._clock.now(),
                        revocation.reason,
                    ),
                )
                return False
            version, state = row
            conn.execute(
                "UPDATE reference_set SET min_version = MAX(min_version, ?) WHERE village_code = ?",
                (revocation.version + 1, revocation.village_code),
            )
            if version > revocation.version or state != "active":
                return False
            self._purge(conn, revocation.village_code, "revoked", revocation.reason)
        log.warning(
            "reference set v%d of village %s revoked by the portal: %s",
            version,
            revocation.village_code,
            revocation.reason,
        )
        return True

    def purge_expired(self) -> int:
        """Purge every active set whose expiry has passed (injected clock); return how many."""
        now = self._clock.now()
        with self._lock, transaction(self._conn) as conn:
            expired = [
                (code, version)
                for code, version in conn.execute(
                    "SELECT village_code, set_version FROM reference_set "
                    "WHERE state = 'active' AND expires_at <= ?",
                    (now,),
                )
            ]
            for code, _ in expired:
                self._purge(conn, code, "expired", "expired")
        for code, version in expired:
            log.warning("reference set v%d of village %s expired and was purged", version, code)
        return len(expired)

    def _purge(self, conn: sqlite3.Connection, village_code: str, state: str, reason: str) -> None:
        conn.execute("DELETE FROM reference_entry WHERE village_code = ?", (village_code,))
        conn.execute(
            "UPDATE reference_set SET state = ?, reason = ?, key_sealed = NULL, entries = 0, "
            "expires_at = NULL WHERE village_code = ?",
            (state, reason[:200], village_code),
        )
        self._keys = {k: v for k, v in self._keys.items() if k[0] != village_code}

    # --- reading -------------------------------------------------------------------------
    def lookup(self, nik: str) -> Reference | None:
        """The reference for ``nik`` in an active, unexpired set, or None."""
        if self.purge_expired():
            log.info("expired reference set purged before a lookup")
        with self._lock:
            sets = self._conn.execute(
                "SELECT village_code, set_version, key_sealed FROM reference_set "
                "WHERE state = 'active' AND key_sealed IS NOT NULL"
            ).fetchall()
            for code, version, key_sealed in sets:
                key = self._set_key(code, version, key_sealed)
                nik_hmac = keyed_hash(key, "reference-nik", nik)
                row = self._conn.execute(
                    "SELECT sealed FROM reference_entry WHERE village_code = ? AND nik_hmac = ?",
                    (code, nik_hmac),
                ).fetchone()
                if row is None:
                    continue
                try:
                    blob = json.loads(
                        self._cipher.open(row[0], _entry_purpose(code, version, nik_hmac))
                    )
                except (CryptoError, ValueError):
                    log.error("a reference entry of village %s failed to open; ignored", code)
                    return None
                return Reference(base64.b64decode(blob["t"]), blob["kk"], blob["i"], code, version)
        return None

    def info(self, village_code: str | None = None) -> SetInfo | None:
        """Metadata of the village's set (the newest one when ``village_code`` is None)."""
        sql = (
            "SELECT village_code, set_version, state, entries, issued_at, expires_at, "
            "installed_at, reason, portal_kid FROM reference_set"
        )
        with self._lock:
            if village_code is None:
                row = self._conn.execute(sql + " ORDER BY installed_at DESC LIMIT 1").fetchone()
            else:
                row = self._conn.execute(
                    sql + " WHERE village_code = ?", (village_code,)
                ).fetchone()
        return SetInfo(*row) if row is not None else None

    def _set_key(self, code: str, version: int, sealed: bytes) -> bytes:
        key = self._keys.get((code, version))
        if key is None:
            key = self._cipher.open(sealed, _key_purpose(code, version))
            self._keys[(code, version)] = key
        return key


def _key_purpose(village_code: str, version: int) -> str:
    return f"reference-key:{village_code}:{version}"


def _entry_purpose(village_code: str, version: int, nik_hmac: str) -> str:
    return f"reference:{village_code}:{version}:{nik_hmac}"
