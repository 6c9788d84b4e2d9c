"""The reference portal's SQLite store: each (device id, record id) exactly once."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    device_id    TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    record       TEXT NOT NULL,   -- decrypted JSON (the portal is allowed to read it)
    received_at  REAL NOT NULL,   -- portal wall clock, seconds
    created_at   REAL,            -- kiosk time corrected by the portal (see correct_time)
    status       TEXT NOT NULL DEFAULT 'received',
    PRIMARY KEY (device_id, record_id)
);
CREATE TABLE IF NOT EXISTS rejection (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  TEXT NOT NULL,
    record_id  TEXT,
    reason     TEXT NOT NULL,
    at         REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS heartbeat (
    device_id   TEXT PRIMARY KEY,
    message     TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS availability (
    device_id TEXT PRIMARY KEY,
    state     TEXT NOT NULL,
    at        REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Incoming:
    """One decrypted record to store."""

    device_id: str
    record_id: str
    kind: str
    record: dict[str, Any]


def correct_time(clock: dict[str, Any], beat: dict[str, Any] | None, beat_at: float) -> float:
    """Best wall time of a record's creation, seconds since the epoch.

    A synchronised kiosk clock is trusted. Otherwise, when a heartbeat from the same boot is
    known, the monotonic difference is applied to the portal's receive time of that heartbeat
    (the Pi has no RTC: its wall clock may be days off until NTP syncs).
    """
    if clock.get("synced") or beat is None:
        return float(clock["wall"])
    same_boot = beat["clock"]["boot_id"] == clock.get("boot_id")
    if not same_boot:
        return float(clock["wall"])
    return beat_at - (float(beat["clock"]["monotonic"]) - float(clock["monotonic"]))


class PortalStore:
    """Thread-safe wrapper over one SQLite connection (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def put_many(self, items: list[Incoming], now: float) -> list[bool]:
        """Store records in ONE transaction; True where new, False where already held."""
        out: list[bool] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for it in items:
                    beat = self._beat(it.device_id)
                    clock = it.record.get("clock") if isinstance(it.record, dict) else None
                    created: float | None = None
                    if isinstance(clock, dict) and "wall" in clock:
                        b, at = beat if beat is not None else (None, 0.0)
                        created = correct_time(clock, b, at)
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO record (device_id, record_id, kind, record,"
                        " received_at, created_at) VALUES (?,?,?,?,?,?)",
                        (it.device_id, it.record_id, it.kind, json.dumps(it.record), now, created),
                    )
                    out.append(cur.rowcount == 1)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return out

    def _beat(self, device_id: str) -> tuple[dict[str, Any], float] | None:
        row = self._conn.execute(
            "SELECT message, received_at FROM heartbeat WHERE device_id = ?", (device_id,)
        ).fetchone()
        return None if row is None else (json.loads(row[0]), float(row[1]))

    def reject(self, device_id: str, record_id: str | None, reason: str, now: float) -> None:
        """Remember a refused message (bad signature, not decryptable, malformed)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO rejection (device_id, record_id, reason, at) VALUES (?,?,?,?)",
                (device_id, record_id, reason, now),
            )

    def heartbeat(self, device_id: str, message: dict[str, Any], now: float) -> None:
        """Keep the latest heartbeat of a device."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO heartbeat (device_id, message, received_at) VALUES (?,?,?)",
                (device_id, json.dumps(message), now),
            )

    def availability(self, device_id: str, state: str, now: float) -> None:
        """Keep a device's last availability ('online'/'offline')."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO availability (device_id, state, at) VALUES (?,?,?)",
                (device_id, state, now),
            )

    def set_status(self, device_id: str, record_id: str, status: str) -> None:
        """Record the decision sent to the kiosk."""
        with self._lock:
            self._conn.execute(
                "UPDATE record SET status = ? WHERE device_id = ? AND record_id = ?",
                (status, device_id, record_id),
            )

    def record_ids(self, device_id: str | None = None) -> list[str]:
        """Stored record ids (optionally of one device), in arrival order."""
        with self._lock:
            if device_id is None:
                rows = self._conn.execute("SELECT record_id FROM record ORDER BY rowid")
            else:
                rows = self._conn.execute(
                    "SELECT record_id FROM record WHERE device_id = ? ORDER BY rowid", (device_id,)
                )
            return [r[0] for r in rows]

    def get(self, device_id: str, record_id: str) -> dict[str, Any] | None:
        """One stored record's decrypted content."""
        with self._lock:
            row = self._conn.execute(
                "SELECT record FROM record WHERE device_id = ? AND record_id = ?",
                (device_id, record_id),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def rejections(self) -> list[tuple[str, str | None, str]]:
        """(device_id, record_id, reason) of every refusal."""
        with self._lock:
            return [
                (r[0], r[1], r[2])
                for r in self._conn.execute(
                    "SELECT device_id, record_id, reason FROM rejection ORDER BY id"
                )
            ]

    def latest_heartbeat(self, device_id: str) -> dict[str, Any] | None:
        """The last heartbeat of a device."""
        with self._lock:
            beat = self._beat(device_id)
        return None if beat is None else beat[0]

    def availability_of(self, device_id: str) -> str | None:
        """Last availability seen for a device."""
        with self._lock:
            row = self._conn.execute(
                "SELECT state FROM availability WHERE device_id = ?", (device_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
