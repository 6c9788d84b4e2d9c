"""Reference portal side of the Dasa Wisma rosters: the authoritative copy of each household.

Kiosks send sealed ``household`` records (a cadre's edit: the whole household plus the edited
field paths); the receiver stores them like any record. :class:`RosterDesk` folds them, in
arrival order, into the portal's copy - one new version per record - and builds the update
message a kiosk applies with ``AgentService.apply_roster_update`` (the kiosk-side conflict rule
lives in :mod:`kiosk.core.roster`). The portal keeps identity fields it already holds (No. KK,
member name, relation, sex, birth year): a kiosk may propose them for new households and
members, and staff change them here with :meth:`RosterDesk.edit`.

    python -m portal.roster --portal-db portal.sqlite3 --desk roster.sqlite3
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.agents.downlink import sign_update
from kiosk.core import roster as rules
from kiosk.errors import FormError
from kiosk.uplink.topics import Name, device_topic

SCHEMA = """
CREATE TABLE IF NOT EXISTS household (
    household_id TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL,
    cadre_id     TEXT NOT NULL,
    version      INTEGER NOT NULL,
    updated_at   REAL NOT NULL,
    body         TEXT             -- JSON household; NULL once removed
);
CREATE TABLE IF NOT EXISTS ingested (
    device_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    result    TEXT NOT NULL,      -- applied | rejected: <reason>
    PRIMARY KEY (device_id, record_id)
);
"""


class RosterDesk:
    """The portal's authoritative households and the update messages for kiosks."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.executescript(SCHEMA)
        self._clock = clock

    def close(self) -> None:
        """Close the desk's database."""
        self._conn.close()

    def ingest(self, portal_db: Path) -> list[str]:
        """Fold every not yet seen ``household`` record of the receiver's store; changed ids."""
        src = sqlite3.connect(f"file:{portal_db}?mode=ro", uri=True)
        try:
            rows = src.execute(
                "SELECT device_id, record_id, record FROM record WHERE kind = 'household'"
                " ORDER BY received_at, rowid"
            ).fetchall()
        finally:
            src.close()
        changed: list[str] = []
        for device_id, record_id, text in rows:
            seen = self._conn.execute(
                "SELECT 1 FROM ingested WHERE device_id = ? AND record_id = ?",
                (device_id, record_id),
            ).fetchone()
            if seen:
                continue
            try:
                hid = self._apply_kiosk_record(device_id, json.loads(text))
                result = "applied"
                changed.append(hid)
            except (FormError, KeyError, TypeError, ValueError) as err:
                result = f"rejected: {err}"[:300]
            self._conn.execute(
                "INSERT INTO ingested (device_id, record_id, result) VALUES (?,?,?)",
                (device_id, record_id, result),
            )
        return list(dict.fromkeys(changed))

    def _apply_kiosk_record(self, device_id: str, record: Mapping[str, Any]) -> str:
        proposed = rules.household_from_dict(record["household"])
        hid = proposed.household_id
        current = self.get(hid)
        if current is None:
            body = proposed
        else:
            flat = rules.flatten(current)
            for edit in record.get("edits", []):
                path, value = str(edit["path"]), edit["value"]
                if rules.is_identity(path) and path in flat:
                    continue  # the portal's identity data stands
                if value is None:
                    flat.pop(path, None)
                else:
                    flat[path] = value
            order = tuple(m.member_id for m in current.members)
            body = rules.unflatten(hid, flat, order)
        self._store(device_id, body)
        return hid

    def _store(self, device_id: str, body: rules.Household | None, hid: str | None = None) -> int:
        household_id = body.household_id if body is not None else hid
        assert household_id is not None
        row = self._conn.execute(
            "SELECT version, device_id, cadre_id FROM household WHERE household_id = ?",
            (household_id,),
        ).fetchone()
        version = (row[0] if row else 0) + 1
        cadre = body.cadre_id if body is not None else (row[2] if row else "")
        text = json.dumps(rules.household_to_dict(body)) if body is not None else None
        self._conn.execute(
            "INSERT INTO household (household_id, device_id, cadre_id, version, updated_at, body)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT(household_id) DO UPDATE SET"
            " device_id=excluded.device_id, cadre_id=excluded.cadre_id,"
            " version=excluded.version, updated_at=excluded.updated_at, body=excluded.body",
            (household_id, device_id, cadre, version, self._clock(), text),
        )
        return version

    def get(self, household_id: str) -> rules.Household | None:
        """The portal's copy of a household, or None."""
        row = self._conn.execute(
            "SELECT body FROM household WHERE household_id = ?", (household_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return rules.household_from_dict(json.loads(row[0]))

    def version(self, household_id: str) -> int:
        """The portal's version of a household (0 when unknown)."""
        row = self._conn.execute(
            "SELECT version FROM household WHERE household_id = ?", (household_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def edit(self, household_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """A change made by portal staff (field path -> value); returns the update message."""
        current = self.get(household_id)
        if current is None:
            raise KeyError(f"unknown household {household_id}")
        flat = rules.flatten(current)
        for path, value in changes.items():
            if value is None:
                flat.pop(path, None)
            else:
                flat[path] = value
        body = rules.unflatten(household_id, flat, tuple(m.member_id for m in current.members))
        row = self._conn.execute(
            "SELECT device_id FROM household WHERE household_id = ?", (household_id,)
        ).fetchone()
        self._store(str(row[0]), body)
        return self.update_message(household_id)

    def remove(self, household_id: str) -> dict[str, Any]:
        """Take a household off the kiosk's rosters; returns the update message."""
        row = self._conn.execute(
            "SELECT device_id FROM household WHERE household_id = ?", (household_id,)
        ).fetchone()
        if row is None:
            raise KeyError(f"unknown household {household_id}")
        self._store(str(row[0]), None, household_id)
        return self.update_message(household_id)

    def update_message(self, household_id: str) -> dict[str, Any]:
        """``{household_id, version, updated_at, household}`` for the kiosk."""
        row = self._conn.execute(
            "SELECT version, updated_at, body FROM household WHERE household_id = ?",
            (household_id,),
        ).fetchone()
        if row is None:
            raise KeyError(f"unknown household {household_id}")
        return {
            "household_id": household_id,
            "version": int(row[0]),
            "updated_at": float(row[1]),
            "household": json.loads(row[2]) if row[2] is not None else None,
        }


def publish_update(
    receiver: Any,
    device_id: str,
    message: dict[str, Any],
    key: Ed25519PrivateKey,
    prefix: str = "perlinsos/v1",
) -> bytes:
    """Sign ``message`` and publish it on the kiosk's ``household_update`` topic (QoS 1)."""
    payload = sign_update(message, key)
    receiver.publish_raw(device_topic(prefix, device_id, Name.HOUSEHOLD_UPDATE), payload)
    return payload


def main(argv: list[str] | None = None) -> int:
    """Fold new household records from a receiver database and print the update messages."""
    p = argparse.ArgumentParser(prog="python -m portal.roster", description=__doc__)
    p.add_argument("--portal-db", type=Path, required=True, help="the receiver's SQLite file")
    p.add_argument("--desk", type=Path, required=True, help="the roster desk's SQLite file")
    args = p.parse_args(argv)
    desk = RosterDesk(args.desk)
    try:
        for hid in desk.ingest(args.portal_db):
            print(json.dumps(desk.update_message(hid), ensure_ascii=False))
    finally:
        desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
