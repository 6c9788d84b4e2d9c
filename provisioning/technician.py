"""The technician's login secret for the local technician page: scrypt hash, 0600 file.

Set with ``kiosk-provision technician-pin``; stored in ``<data_dir>/provisioning/technician.json``.
Wrong attempts are throttled in memory by :class:`LoginGate` (the page is loopback-only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field

from kiosk.core.clock import Clock

from .errors import StepError
from .fsutil import write_text_atomic
from .layout import Layout

SCRYPT = (2**14, 8, 1)
MIN_LENGTH = 8
MAX_FAILURES = 5
LOCKOUT_S = 300.0


def _hash(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=1 << 26)


def set_secret(layout: Layout, secret: str) -> None:
    """Store the technician secret (at least 8 characters) as a salted scrypt hash."""
    if len(secret) < MIN_LENGTH or len(set(secret)) < 3:
        raise StepError(
            "technician_secret",
            f"the technician password must be at least {MIN_LENGTH} characters and not one "
            "character repeated",
            "choose a longer password (a short sentence works well)",
        )
    salt = os.urandom(16)
    n, r, p = SCRYPT
    record = {
        "params": f"scrypt:{n}:{r}:{p}",
        "salt": base64.b64encode(salt).decode(),
        "hash": base64.b64encode(_hash(secret, salt, n, r, p)).decode(),
    }
    write_text_atomic(layout.prov / "technician.json", json.dumps(record) + "\n", mode=0o600)


def is_set(layout: Layout) -> bool:
    """True when a technician secret has been set on this kiosk."""
    return (layout.prov / "technician.json").is_file()


def verify_secret(layout: Layout, secret: str) -> bool:
    """True when ``secret`` matches the stored hash (False when none is set)."""
    try:
        record = json.loads((layout.prov / "technician.json").read_text(encoding="utf-8"))
        _name, n, r, p = str(record["params"]).split(":")
        salt = base64.b64decode(record["salt"])
        expected = base64.b64decode(record["hash"])
    except (OSError, ValueError, KeyError):
        return False
    return hmac.compare_digest(_hash(secret, salt, int(n), int(r), int(p)), expected)


@dataclass
class LoginGate:
    """At most MAX_FAILURES wrong attempts, then a lockout of LOCKOUT_S seconds."""

    clock: Clock
    failures: int = 0
    locked_until: float = field(default=0.0)

    def locked_for(self) -> float:
        """Seconds left in the lockout (0 when open)."""
        return max(0.0, self.locked_until - self.clock.monotonic())

    def attempt(self, layout: Layout, secret: str) -> bool:
        """Check a login attempt, counting failures; False while locked."""
        if self.locked_for() > 0:
            return False
        if verify_secret(layout, secret):
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            self.failures = 0
            self.locked_until = self.clock.monotonic() + LOCKOUT_S
        return False
