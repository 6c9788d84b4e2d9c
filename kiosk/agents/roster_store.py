"""Roster households and their change history, sealed at rest with the device key."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk.core.roster import (
    Action,
    Change,
    Household,
    LocalEdit,
    household_from_dict,
    household_to_dict,
    pending_from_json,
    pending_to_json,
)
from kiosk.crypto.atrest import AtRestCipher, keyed_hash


@dataclass(frozen=True)
class StoredHousehold:
    """A household as the kiosk holds it: data, last portal version, unconfirmed edits."""

    household: Household
    version: int
    pending: dict[str, LocalEdit]
    updated_at: float


class RosterRepository:
    """SQL for ``roster_household`` and ``roster_history``; writes join the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, cipher: AtRestCipher, lookup_key: bytes) -> None:
        self._conn = conn
        self._cipher = cipher
        self._key = lookup_key

    def kk_hash(self, kk: str) -> str:
        """Keyed hash of a No. KK (lookup key; the KK itself is only stored sealed)."""
        return keyed_hash(self._key, "kk", kk)

    def get(self, household_id: str) -> StoredHousehold | None:
        """The household with ``household_id``, or None."""
        row = self._conn.execute(
            "SELECT household_id, version, data_sealed, pending_sealed, updated_at"
            " FROM roster_household WHERE household_id = ?",
            (household_id,),
        ).fetchone()
        return self._load(row) if row else None

    def by_cadre(self, cadre_id: str) -> list[StoredHousehold]:
        """A cadre's households, oldest first."""
        rows = self._conn.execute(
            "SELECT household_id, version, data_sealed, pending_sealed, updated_at"
            " FROM roster_household WHERE cadre_id = ? ORDER BY rowid",
            (cadre_id,),
        ).fetchall()
        return [self._load(r) for r in rows]

    def id_for_kk(self, kk: str) -> str | None:
        """The household id holding No. KK ``kk``, or None."""
        row = self._conn.execute(
            "SELECT household_id FROM roster_household WHERE kk_hmac = ?", (self.kk_hash(kk),)
        ).fetchone()
        return str(row[0]) if row else None

    def registered_at(self, kk: str) -> float | None:
        """When this No. KK last registered (or updated) on this kiosk, or None."""
        row = self._conn.execute(
            "SELECT MAX(created_at) FROM registration WHERE kk_hmac = ?", (self.kk_hash(kk),)
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def count(self, cadre_id: str) -> int:
        """Households a cadre holds."""
        row = self._conn.execute(
            "SELECT COUNT(*) FROM roster_household WHERE cadre_id = ?", (cadre_id,)
        ).fetchone()
        return int(row[0])

    def save(
        self,
        c: sqlite3.Connection,
        household: Household,
        version: int,
        pending: dict[str, LocalEdit],
        at: float,
    ) -> None:
        """Insert or replace a household inside the caller's transaction on ``c``."""
        hid = household.household_id
        data = self._cipher.seal(_dump(household_to_dict(household)), f"roster:{hid}")
        pend = (
            self._cipher.seal(_dump(pending_to_json(pending)), f"roster-pending:{hid}")
            if pending
            else None
        )
        c.execute(
            "INSERT INTO roster_household (household_id, cadre_id, kk_hmac, version, data_sealed,"
            " pending_sealed, updated_at) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT(household_id) DO UPDATE SET cadre_id=excluded.cadre_id,"
            " kk_hmac=excluded.kk_hmac, version=excluded.version,"
            " data_sealed=excluded.data_sealed, pending_sealed=excluded.pending_sealed,"
            " updated_at=excluded.updated_at",
            (hid, household.cadre_id, self.kk_hash(household.kk), version, data, pend, at),
        )

    def delete(self, c: sqlite3.Connection, household_id: str) -> None:
        """Remove a household (its history stays) inside the caller's transaction."""
        c.execute("DELETE FROM roster_household WHERE household_id = ?", (household_id,))

    def add_history(self, c: sqlite3.Connection, changes: list[Change]) -> None:
        """Append history entries inside the caller's transaction; values are sealed."""
        for ch in changes:
            detail = (
                self._cipher.seal(
                    _dump({"old": ch.old, "new": ch.new}), f"roster-history:{ch.household_id}"
                )
                if ch.old is not None or ch.new is not None
                else None
            )
            c.execute(
                "INSERT INTO roster_history (household_id, at, source, action, path, agent_id,"
                " version, detail_sealed) VALUES (?,?,?,?,?,?,?,?)",
                (
                    ch.household_id,
                    ch.at,
                    ch.source,
                    ch.action.value,
                    ch.path,
                    ch.agent_id,
                    ch.version,
                    detail,
                ),
            )

    def history(self, household_id: str) -> list[Change]:
        """The change history of a household, oldest first, values decrypted."""
        rows = self._conn.execute(
            "SELECT household_id, path, source, action, at, agent_id, version, detail_sealed"
            " FROM roster_history WHERE household_id = ? ORDER BY seq",
            (household_id,),
        ).fetchall()
        out = []
        for hid, path, source, action, at, agent_id, version, sealed in rows:
            detail: dict[str, Any] = (
                json.loads(self._cipher.open(bytes(sealed), f"roster-history:{hid}"))
                if sealed is not None
                else {}
            )
            out.append(
                Change(
                    hid,
                    path,
                    source,
                    Action(action),
                    at,
                    detail.get("old"),
                    detail.get("new"),
                    agent_id,
                    version,
                )
            )
        return out

    def _load(self, row: tuple[Any, ...]) -> StoredHousehold:
        hid, version, data, pend, updated_at = row
        household = household_from_dict(json.loads(self._cipher.open(bytes(data), f"roster:{hid}")))
        pending = (
            pending_from_json(json.loads(self._cipher.open(bytes(pend), f"roster-pending:{hid}")))
            if pend is not None
            else {}
        )
        return StoredHousehold(household, int(version), pending, float(updated_at))


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
