"""Dashboard officials: password hashes, the lock-out after wrong passwords, and creation.

A wrong password counts against the account; after ``MAX_FAILED`` in a row it is locked for
``LOCK_S`` seconds (even the right password is refused meanwhile). Unknown user names cost a
hash check too, so the answer time does not tell which names exist. Per-address throttling
lives in :class:`AddressThrottle` (memory of one process; the account lock is the shared one).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from portal.dashboard.areas import Area, Level, parse_area, role_fits

log = logging.getLogger("portal.dashboard")

MAX_FAILED = 5
"""Wrong passwords in a row before the account locks."""
LOCK_S = 15 * 60.0
"""How long a locked account stays locked, seconds."""
MAX_ADDRESSES = 10_000
"""Client addresses the throttle remembers at most."""
MIN_PASSWORD = 10
"""Shortest password accepted when an official is created."""
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")
_DUMMY = generate_password_hash("not-a-password-of-anyone")


@dataclass(frozen=True)
class Official:
    """A logged-in official: who, which role, which area."""

    username: str
    name: str
    role: Level
    area: Area


@dataclass(frozen=True)
class LoginResult:
    """The official on success; otherwise ``locked_until`` (seconds) if the account is locked."""

    official: Official | None
    locked_until: float | None = None


def _official(row: Any) -> Official:
    return Official(row[0], row[1], Level(row[2]), Area(row[3]))


def check_new(username: str, role: str, area_code: str, password: str) -> str | None:
    """Why these details cannot make an official (None if they can)."""
    if not _USERNAME.match(username):
        return "user name: 3-40 lower-case letters, digits, '.', '_' or '-'"
    if role not in {lv.value for lv in Level}:
        return f"role must be one of {', '.join(lv.value for lv in Level)}"
    area = parse_area(area_code)
    if area is None or not role_fits(role, area.code):
        digits = {"village": 10, "kecamatan": 6, "regency": 4}[role]
        return f"a {role} official needs a {digits}-digit area code"
    if len(password) < MIN_PASSWORD:
        return f"password must have at least {MIN_PASSWORD} characters"
    return None


def create_official(
    conn: Any, username: str, name: str, role: str, area_code: str, password: str,
    now: float | None = None,
) -> None:  # fmt: skip
    """Create (or replace the password, role and area of) an official; ValueError if invalid."""
    why = check_new(username, role, area_code, password)
    if why is not None:
        raise ValueError(why)
    area = parse_area(area_code)
    assert area is not None
    conn.execute(
        "INSERT INTO official (username, name, role, area_code, password_hash, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE SET"
        " name = EXCLUDED.name, role = EXCLUDED.role, area_code = EXCLUDED.area_code,"
        " password_hash = EXCLUDED.password_hash, active = true, failed = 0, locked_until = 0",
        (username, name, role, area.code, generate_password_hash(password), now or time.time()),
    )


def load(conn: Any, username: str) -> Official | None:
    """The active official of that name."""
    row = conn.execute(
        "SELECT username, name, role, area_code FROM official WHERE username = %s AND active",
        (username,),
    ).fetchone()
    return None if row is None else _official(row)


def login(conn: Any, username: str, password: str, now: float) -> LoginResult:
    """Check a password, counting failures and locking the account after too many."""
    with conn.transaction():
        row = conn.execute(
            "SELECT username, name, role, area_code, password_hash, failed, locked_until"
            " FROM official WHERE username = %s AND active FOR UPDATE",
            (username,),
        ).fetchone()
        if row is None:
            check_password_hash(_DUMMY, password)  # the same cost as a real check
            return LoginResult(None)
        if row[6] > now:
            return LoginResult(None, locked_until=float(row[6]))
        if check_password_hash(row[4], password):
            conn.execute(
                "UPDATE official SET failed = 0, locked_until = 0 WHERE username = %s",
                (username,),
            )
            return LoginResult(_official(row))
        failed = int(row[5]) + 1
        until = now + LOCK_S if failed >= MAX_FAILED else 0.0
        if until:
            log.warning("dashboard: official %s locked after %d wrong passwords", username, failed)
        conn.execute(
            "UPDATE official SET failed = %s, locked_until = %s WHERE username = %s",
            (0 if until else failed, until, username),
        )
        return LoginResult(None, locked_until=until or None)


class AddressThrottle:
    """Wrong passwords per client address in a sliding window (guessing across many names)."""

    def __init__(self, limit: int = 20, window_s: float = LOCK_S,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()  # waitress serves from several threads

    def _recent(self, address: str) -> list[float]:
        cutoff = self._clock() - self.window_s
        kept = [t for t in self._failures.get(address, []) if t > cutoff]
        if kept:
            self._failures[address] = kept
        else:
            self._failures.pop(address, None)
        return kept

    def blocked_until(self, address: str) -> float | None:
        """When this address may try again, or None if it may now."""
        with self._lock:
            recent = self._recent(address)
        return recent[0] + self.window_s if len(recent) >= self.limit else None

    def failed(self, address: str) -> None:
        """Count one wrong password from ``address`` (memory stays bounded under a flood)."""
        with self._lock:
            if len(self._failures) >= MAX_ADDRESSES:
                for other in list(self._failures):
                    self._recent(other)
                while len(self._failures) >= MAX_ADDRESSES:  # still full: forget the oldest
                    del self._failures[min(self._failures, key=lambda a: self._failures[a][-1])]
            self._recent(address)
            self._failures.setdefault(address, []).append(self._clock())
