"""Agent accounts: roles, PINs hashed with scrypt, face templates and display names sealed at
rest, duty status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from kiosk.core.clock import Clock
from kiosk.core.i18n import N_
from kiosk.crypto.atrest import AtRestCipher
from kiosk.errors import CryptoError, InputError
from kiosk.store.db import transaction

log = logging.getLogger(__name__)


class Permission(StrEnum):
    """What an agent may do on the kiosk."""

    ASSIST = "assist"  # register someone on their behalf
    VOUCH = "vouch"  # vouch for a resident whose face check failed
    ROSTER = "roster"  # keep a Dasa Wisma roster


@dataclass(frozen=True)
class Role:
    """An agent role with its labels and permissions."""

    code: str
    label: str
    """The label's msgid (English; translated at the edge)."""
    permissions: frozenset[Permission]


_ALL = frozenset(Permission)
_HELPER = frozenset({Permission.ASSIST, Permission.VOUCH})
ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("pkh", N_("PKH facilitator"), _HELPER),
        Role("tksk", N_("TKSK social welfare worker"), _HELPER),
        Role("dasa_wisma", N_("Dasa Wisma cadre"), _ALL),
        Role("operator", N_("Village operator"), _HELPER),
    )
}
"""Role code -> role. Only Dasa Wisma cadres keep rosters."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt cost (16 MiB, about 0.1 s on a Raspberry Pi 4); stored per agent so it can grow."""

_AGENT_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
_PIN = re.compile(r"^\d{6,12}$")
_DUMMY_SALT = b"\x00" * 16
_SELECT = (
    "SELECT agent_id, role, display_name,"
    " active = 1 AND (valid_until IS NULL OR valid_until > ?), on_duty, source, version,"
    " template_sealed IS NOT NULL FROM agent"
)


@dataclass(frozen=True)
class Agent:
    """What the kiosk may show about an agent (never the PIN hash or the template)."""

    agent_id: str
    role: str
    display_name: str
    active: bool
    on_duty: bool
    source: str
    version: int
    has_template: bool

    @property
    def role_info(self) -> Role:
        """The role's labels and permissions."""
        return ROLES[self.role]

    def may(self, permission: Permission) -> bool:
        """True when the agent's role allows ``permission``."""
        return self.active and permission in ROLES[self.role].permissions


def normalise_agent_id(text: str) -> str:
    """Upper-case, trimmed agent id; raises InputError when it is not a valid id."""
    value = text.strip().upper() if isinstance(text, str) else ""
    if not _AGENT_ID.match(value) or re.search(r"\d{12,}", value):
        raise InputError("an agent id is 3-32 letters, digits and '-', e.g. AG-3510-001")
    return value


def check_pin(pin: str) -> str:
    """A new PIN: 6-12 digits, not all one digit, not a straight run like 123456."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise InputError("the PIN must be 6 to 12 digits")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({0}, {1}, {-1}):
        raise InputError("the PIN is too easy to guess (one digit repeated or a straight run)")
    return pin


def hash_pin(pin: str, salt: bytes, params: str) -> bytes:
    """scrypt of ``pin`` under ``salt`` with ``params`` ('scrypt:N:r:p'), 32 bytes."""
    try:
        name, n, r, p = params.split(":")
        if name != "scrypt":
            raise ValueError(name)
        cost, block, par = int(n), int(r), int(p)
    except ValueError as err:
        raise CryptoError(f"unknown PIN hash parameters {params!r}") from err
    return hashlib.scrypt(
        pin.encode(), salt=salt, n=cost, r=block, p=par, dklen=32, maxmem=256 * 1024 * 1024
    )


MIN_COST = (2**14, 8, 1)
"""Weakest scrypt parameters (N, r, p) accepted in a PIN hash pushed by the portal."""


def encode_pin_hash(pin: str, params: str = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}") -> str:
    """A PIN hash the portal pushes: ``scrypt$N$r$p$<salt b64>$<hash b64>`` (the PIN is checked)."""
    check_pin(pin)
    salt = os.urandom(16)
    digest = hash_pin(pin, salt, params)
    b64 = base64.b64encode
    return "$".join([*params.split(":"), b64(salt).decode(), b64(digest).decode()])


def decode_pin_hash(text: str) -> tuple[str, bytes, bytes]:
    """(params, salt, digest) of a pushed PIN hash; refuses unknown or too weak parameters."""
    try:
        name, n, r, p, salt, digest = text.split("$")
        cost = (int(n), int(r), int(p))
        raw_salt = base64.b64decode(salt, validate=True)
        raw_digest = base64.b64decode(digest, validate=True)
    except (ValueError, AttributeError) as err:
        raise CryptoError("a pushed PIN hash must look like scrypt$N$r$p$salt$hash") from err
    if name != "scrypt" or any(c < m for c, m in zip(cost, MIN_COST, strict=True)):
        raise CryptoError("a pushed PIN hash uses unknown or too weak parameters")
    if len(raw_salt) < 16 or len(raw_digest) != 32:
        raise CryptoError("a pushed PIN hash needs a 16-byte salt and a 32-byte hash")
    return f"scrypt:{n}:{r}:{p}", raw_salt, raw_digest


def _check_template(template: bytes) -> bytes:
    if not isinstance(template, bytes) or not template or len(template) % 4 or len(template) > 8192:
        raise InputError("a face template is float32 bytes (e.g. 512 bytes for 128 values)")
    return template


def _checked_name(role: str, display_name: str) -> str:
    """The display name, spaces folded, once ``role`` and the name's length are valid."""
    if role not in ROLES:
        raise InputError(f"unknown agent role {role!r}; one of {', '.join(ROLES)}")
    name = " ".join(display_name.split()) if isinstance(display_name, str) else ""
    if not 1 <= len(name) <= 60:
        raise InputError("the agent's display name must be 1-60 characters")
    return name


class AgentRepository:
    """SQL for the ``agent`` table."""

    def __init__(self, conn: sqlite3.Connection, cipher: AtRestCipher, clock: Clock) -> None:
        self._conn = conn
        self._cipher = cipher
        self._clock = clock
        self.params = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"
        self._seal_clear_names()

    def _seal_name(self, agent_id: str, name: str) -> bytes:
        """A display name is personal data: sealed like templates, bound to the agent id."""
        return self._cipher.seal(name.encode("utf-8"), f"agent-name:{agent_id}")

    def _seal_template(self, agent_id: str, template: bytes | None) -> bytes | None:
        """A checked face template sealed to the agent id; None when there is none."""
        if template is None:
            return None
        return self._cipher.seal(_check_template(template), f"agent-template:{agent_id}")

    def _open_name(self, agent_id: str, stored: object) -> str:
        if not isinstance(stored, bytes):
            return str(stored)  # written before names were sealed (sealed at the next start)
        try:
            return self._cipher.open(stored, f"agent-name:{agent_id}").decode("utf-8")
        except (CryptoError, UnicodeDecodeError):
            log.error("display name of agent %s cannot be opened; showing the id", agent_id)
            return agent_id

    def _seal_clear_names(self) -> None:
        """Data migration: seal names stored in clear by earlier versions (once, idempotent)."""
        rows = self._conn.execute(
            "SELECT agent_id, display_name FROM agent WHERE typeof(display_name) = 'text'"
        ).fetchall()
        if not rows:
            return
        with transaction(self._conn) as c:
            for aid, name in rows:
                c.execute(
                    "UPDATE agent SET display_name = ? WHERE agent_id = ?",
                    (self._seal_name(str(aid), str(name)), aid),
                )

    def enrol(
        self,
        agent_id: str,
        role: str,
        display_name: str,
        pin: str,
        template: bytes | None,
        *,
        source: str = "provisioning",
        version: int = 0,
        replace: bool = False,
    ) -> Agent:
        """Create an agent (or replace one when ``replace``); the PIN is hashed, never kept."""
        aid = normalise_agent_id(agent_id)
        name = _checked_name(role, display_name)
        check_pin(pin)
        if source not in ("provisioning", "portal"):
            raise InputError("source is provisioning or portal")
        sealed = self._seal_template(aid, template)
        salt = os.urandom(16)
        digest = hash_pin(pin, salt, self.params)
        now = self._clock.now()
        with transaction(self._conn) as c:
            exists = c.execute("SELECT 1 FROM agent WHERE agent_id = ?", (aid,)).fetchone()
            if exists and not replace:
                raise InputError(f"agent {aid} is already enrolled")
            c.execute(
                "INSERT INTO agent (agent_id, role, display_name, pin_hash, pin_salt, pin_params,"
                " template_sealed, source, version, enrolled_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(agent_id) DO UPDATE SET role=excluded.role,"
                " display_name=excluded.display_name, pin_hash=excluded.pin_hash,"
                " pin_salt=excluded.pin_salt, pin_params=excluded.pin_params,"
                " template_sealed=excluded.template_sealed, source=excluded.source,"
                " version=excluded.version, active=1, updated_at=excluded.updated_at",
                (
                    aid,
                    role,
                    self._seal_name(aid, name),
                    digest,
                    salt,
                    self.params,
                    sealed,
                    source,
                    version,
                    now,
                    now,
                ),
            )
        found = self.get(aid)
        assert found is not None
        return found

    def upsert_from_portal(
        self,
        agent_id: str,
        display_name: str,
        pin_hash: str,
        *,
        role: str = "operator",
        template: bytes | None = None,
        version: int = 0,
        valid_until: float | None = None,
    ) -> Agent:
        """Create or update an account pushed by the portal (PIN hash computed there).

        A template already enrolled here is kept when the portal sends none.
        """
        aid = normalise_agent_id(agent_id)
        name = _checked_name(role, display_name)
        params, salt, digest = decode_pin_hash(pin_hash)
        sealed = self._seal_template(aid, template)
        now = self._clock.now()
        with transaction(self._conn) as c:
            c.execute(
                "INSERT INTO agent (agent_id, role, display_name, pin_hash, pin_salt, pin_params,"
                " template_sealed, source, version, enrolled_at, updated_at, valid_until)"
                " VALUES (?,?,?,?,?,?,?,'portal',?,?,?,?)"
                " ON CONFLICT(agent_id) DO UPDATE SET role=excluded.role,"
                " display_name=excluded.display_name, pin_hash=excluded.pin_hash,"
                " pin_salt=excluded.pin_salt, pin_params=excluded.pin_params,"
                " template_sealed=COALESCE(excluded.template_sealed, agent.template_sealed),"
                " source='portal', version=excluded.version, active=1,"
                " updated_at=excluded.updated_at, valid_until=excluded.valid_until",
                (
                    aid,
                    role,
                    self._seal_name(aid, name),
                    digest,
                    salt,
                    params,
                    sealed,
                    version,
                    now,
                    now,
                    valid_until,
                ),
            )
        found = self.get(aid)
        assert found is not None
        return found

    def portal_ids(self) -> list[str]:
        """Ids of active accounts that came from the portal."""
        rows = self._conn.execute(
            "SELECT agent_id FROM agent WHERE source = 'portal' AND active = 1 ORDER BY agent_id"
        )
        return [str(r[0]) for r in rows.fetchall()]

    def get(self, agent_id: str) -> Agent | None:
        """The agent with ``agent_id`` (any case), or None."""
        row = self._conn.execute(
            f"{_SELECT} WHERE agent_id = ?", (self._clock.now(), agent_id.strip().upper())
        ).fetchone()
        return self._agent(row) if row else None

    def all(self, active_only: bool = True) -> list[Agent]:
        """All agents, by id."""
        rows = self._conn.execute(f"{_SELECT} ORDER BY agent_id", (self._clock.now(),))
        found = [self._agent(r) for r in rows.fetchall()]
        return [a for a in found if a.active] if active_only else found

    def on_duty(self) -> list[Agent]:
        """Active agents who are on duty now, by display name."""
        return sorted((a for a in self.all() if a.on_duty), key=lambda a: a.display_name.casefold())

    def set_on_duty(self, agent_id: str, on_duty: bool) -> None:
        """Mark an agent on or off duty."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE agent SET on_duty = ?, updated_at = ? WHERE agent_id = ?",
                (int(on_duty), self._clock.now(), agent_id),
            )

    def deactivate(self, agent_id: str) -> bool:
        """Disable an agent (kept for the audit trail); False when unknown."""
        with transaction(self._conn) as c:
            cur = c.execute(
                "UPDATE agent SET active = 0, on_duty = 0, updated_at = ? WHERE agent_id = ?",
                (self._clock.now(), agent_id),
            )
        return cur.rowcount == 1

    def verify_pin(self, agent_id: str, pin: str) -> bool:
        """True when ``pin`` is the active agent's PIN; the same work is done for unknown ids."""
        row = self._conn.execute(
            "SELECT pin_hash, pin_salt, pin_params FROM agent WHERE agent_id = ? AND active = 1"
            " AND (valid_until IS NULL OR valid_until > ?)",
            (agent_id, self._clock.now()),
        ).fetchone()
        candidate = pin if isinstance(pin, str) else ""
        if row is None:
            hash_pin(candidate, _DUMMY_SALT, self.params)  # same cost: no timing oracle on ids
            return False
        stored, salt, params = bytes(row[0]), bytes(row[1]), str(row[2])
        return hmac.compare_digest(hash_pin(candidate, salt, params), stored)

    def template(self, agent_id: str) -> bytes | None:
        """The agent's face template (float32 bytes), decrypted; None when none is enrolled."""
        row = self._conn.execute(
            "SELECT template_sealed FROM agent WHERE agent_id = ?", (agent_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return self._cipher.open(bytes(row[0]), f"agent-template:{agent_id}")

    def _agent(self, row: tuple[object, ...]) -> Agent:
        aid, role, name, active, duty, source, version, has_t = row
        return Agent(
            str(aid),
            str(role),
            self._open_name(str(aid), name),
            bool(active),
            bool(duty),
            str(source),
            int(version),  # type: ignore[call-overload]
            bool(has_t),
        )
