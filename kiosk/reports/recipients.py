"""The village's signed list of recipients: validate, keep (sealed at rest), look up, page.

The portal publishes the list retained on the device's ``recipients`` topic: the head of each
recipient household by name, with dusun and RT and the programmes received, never a NIK. A
list that is unsigned, forged, over-size, for another village, malformed or not newer than the
one held is refused with a reason code and the one held stays in use.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.core.clock import Clock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.signed import RejectedMessage, sign_message, verify_message
from kiosk.errors import ProtocolError
from kiosk.store.db import transaction
from kiosk.uplink import messages
from kiosk.uplink.topics import TOPICS, Name

log = logging.getLogger(__name__)

_LONG_DIGITS = re.compile(r"\d{12,}")
"""A NIK or No. KK has 16 digits; no field of the list may carry a run of 12 or more."""

PAGE_SIZE = 4
"""Households per screen at 800x480 in large type."""


@dataclass(frozen=True)
class Recipient:
    """One listed household: the portal's id, the head's name, where it lives, programmes."""

    ref: str
    name: str
    dusun: str
    rt: str
    programmes: tuple[str, ...]

    def __repr__(self) -> str:  # names are personal data: never in a log line
        return f"Recipient({self.ref})"


@dataclass(frozen=True)
class RecipientList:
    """A validated list for one village."""

    village_code: str
    version: int
    issued_at: float
    kid: str
    dusun: tuple[str, ...]
    households: tuple[Recipient, ...]


@dataclass(frozen=True)
class Page:
    """One screen of the list."""

    items: tuple[Recipient, ...]
    number: int  # 1-based
    pages: int
    total: int


_KEYS = frozenset(
    {"v", "kind", "village_code", "list_version", "issued_at", "dusun", "households", "kid", "sig"}
)
_HOUSEHOLD_KEYS = frozenset({"ref", "name", "dusun", "rt", "programmes"})
_PROGRAMMES = frozenset({"pkh", "bpnt", "pbi_jk", "pip", "blt_dd"})
_VILLAGE = re.compile(r"[0-9]{10}")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_RT = re.compile(r"[0-9]{1,3}")
_SIG = re.compile(r"[A-Za-z0-9+/]{86}==")


def _count(x: Any, low: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= low


def _text(x: Any, low: int, high: int) -> bool:
    return isinstance(x, str) and low <= len(x) <= high


def _household_ok(h: Any) -> bool:
    if not isinstance(h, dict) or h.keys() != _HOUSEHOLD_KEYS:
        return False
    p = h["programmes"]
    return (
        isinstance(h["ref"], str)
        and _REF.fullmatch(h["ref"]) is not None
        and _text(h["name"], 1, 80)
        and _text(h["dusun"], 1, 40)
        and isinstance(h["rt"], str)
        and _RT.fullmatch(h["rt"]) is not None
        and isinstance(p, list)
        and len(p) <= 5
        and len(set(p)) == len(p)
        and all(x in _PROGRAMMES for x in p)
    )


def fast_valid(data: Any) -> bool:
    """A hand-written test of the ``recipients`` schema, never looser than it (tested): the
    jsonschema validation of 10,000 households takes seconds on the relay thread."""
    if not isinstance(data, dict) or data.keys() != _KEYS:
        return False
    dusun, households = data["dusun"], data["households"]
    return (
        data["v"] == 1
        and _count(data["v"], 1)
        and data["kind"] == "recipients"
        and isinstance(data["village_code"], str)
        and _VILLAGE.fullmatch(data["village_code"]) is not None
        and _count(data["list_version"], 1)
        and _count(data["issued_at"], 0)
        and isinstance(dusun, list)
        and len(dusun) <= 60
        and all(_text(d, 1, 40) for d in dusun)
        and len(set(dusun)) == len(dusun)
        and isinstance(households, list)
        and len(households) <= 10_000
        and all(_household_ok(h) for h in households)
        and _text(data["kid"], 8, 64)
        and isinstance(data["sig"], str)
        and _SIG.fullmatch(data["sig"]) is not None
    )


def sign_list(body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Portal side: ``{village_code, list_version, issued_at, dusun, households}`` signed;
    ProtocolError when it breaks the schema or carries a NIK-like number (never published)."""
    payload = sign_message({"v": 1, "kind": "recipients", **body}, key)
    parse_list(payload, trusted=[key.public_key()], village_code=str(body.get("village_code")))
    return payload


def parse_list(
    payload: bytes, *, trusted: Iterable[Ed25519PublicKey], village_code: str
) -> RecipientList:
    """Bounds, JSON, signature, schema, village and no-NIK checks; raises RejectedMessage."""
    messages.precheck("recipients", payload, TOPICS[Name.RECIPIENTS].max_bytes)
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RejectedMessage("not_json", "recipient list is not UTF-8 JSON") from err
    if not isinstance(data, dict) or "sig" not in data or "kid" not in data:
        raise RejectedMessage("unsigned", "recipient list carries no portal signature")
    verify_message(data, list(trusted))
    if not fast_valid(data):  # the schema's own message for anything the fast check refuses
        try:
            messages.check("recipients", data)
        except ProtocolError as err:
            raise RejectedMessage("schema", str(err)) from err
    if data["village_code"] != village_code:
        raise RejectedMessage("other_village", "recipient list is for another village")
    dusun = tuple(data["dusun"])
    households = []
    for h in data["households"]:
        if any(_LONG_DIGITS.search(str(h[k])) for k in ("ref", "name", "dusun")):
            raise RejectedMessage("nik", "recipient list carries a NIK-like number")
        if dusun and h["dusun"] not in dusun:
            raise RejectedMessage("schema", "household in a dusun the list does not name")
        households.append(
            Recipient(h["ref"], h["name"], h["dusun"], h["rt"], tuple(h["programmes"]))
        )
    if len({h.ref for h in households}) != len(households):
        raise RejectedMessage("schema", "recipient list names a household twice")
    return RecipientList(
        village_code,
        int(data["list_version"]),
        float(data["issued_at"]),
        str(data["kid"]),
        dusun or tuple(sorted({h.dusun for h in households})),
        tuple(households),
    )


class RecipientStore:
    """The ``recipient_list`` table: one list per village, its households sealed at rest."""

    def __init__(self, conn: sqlite3.Connection, cipher: AtRestCipher, clock: Clock) -> None:
        self._conn = conn
        self._cipher = cipher
        self._clock = clock
        self._cache: tuple[int, RecipientList] | None = None

    def version(self, village_code: str) -> int:
        """The version held (0 when none)."""
        row = self._conn.execute(
            "SELECT list_version FROM recipient_list WHERE village_code = ?", (village_code,)
        ).fetchone()
        return int(row[0]) if row else 0

    def replace(self, lst: RecipientList) -> None:
        """Install ``lst`` in place of the one held."""
        body = {
            "dusun": list(lst.dusun),
            "households": [
                [h.ref, h.name, h.dusun, h.rt, list(h.programmes)] for h in lst.households
            ],
        }
        sealed = self._cipher.seal(
            json.dumps(body, separators=(",", ":")).encode(), f"recipients:{lst.village_code}"
        )
        with transaction(self._conn) as c:
            c.execute(
                "INSERT INTO recipient_list (village_code, list_version, issued_at,"
                " installed_at, portal_kid, households, entries_sealed) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT(village_code) DO UPDATE SET list_version = excluded.list_version,"
                " issued_at = excluded.issued_at, installed_at = excluded.installed_at,"
                " portal_kid = excluded.portal_kid, households = excluded.households,"
                " entries_sealed = excluded.entries_sealed",
                (
                    lst.village_code,
                    lst.version,
                    lst.issued_at,
                    self._clock.now(),
                    lst.kid,
                    len(lst.households),
                    sealed,
                ),
            )
        self._cache = None

    def current(self, village_code: str) -> RecipientList | None:
        """The list held for ``village_code``, or None."""
        row = self._conn.execute(
            "SELECT list_version, issued_at, portal_kid, entries_sealed FROM recipient_list"
            " WHERE village_code = ?",
            (village_code,),
        ).fetchone()
        if row is None:
            return None
        if self._cache is not None and self._cache[0] == int(row[0]):
            return self._cache[1]
        body = json.loads(self._cipher.open(row[3], f"recipients:{village_code}"))
        lst = RecipientList(
            village_code,
            int(row[0]),
            float(row[1]),
            str(row[2]),
            tuple(body["dusun"]),
            tuple(Recipient(r, n, d, t, tuple(p)) for r, n, d, t, p in body["households"]),
        )
        self._cache = (lst.version, lst)
        return lst


def page_of(
    households: Sequence[Recipient], number: int, dusun: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Page ``number`` (1-based, clamped) of the households, only ``dusun``'s when given,
    sorted by dusun, RT and name."""
    chosen = [h for h in households if not dusun or h.dusun == dusun]
    chosen.sort(key=lambda h: (h.dusun, int(h.rt), h.name.casefold()))
    pages = max(1, -(-len(chosen) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(tuple(chosen[start : start + size]), number, pages, len(chosen))


class RecipientInbox:
    """``Uplink.on_signed(Name.RECIPIENTS, inbox)``: install a valid, newer list; keep the old
    one on any refusal (counted by reason, logged without any name)."""

    def __init__(
        self,
        store: RecipientStore,
        *,
        trusted: Callable[[], Sequence[Ed25519PublicKey]],
        village_code: str,
    ) -> None:
        self._store = store
        self._trusted = trusted
        self._village = village_code
        self.rejected: dict[str, int] = {}

    def __call__(self, payload: bytes, correlation: bytes | None = None) -> bool:
        """Apply one message; False when it is refused or not newer."""
        if not payload:
            return self._reject("empty", "empty retained message ignored")
        try:
            lst = parse_list(payload, trusted=self._trusted(), village_code=self._village)
        except RejectedMessage as err:
            return self._reject(err.reason, str(err))
        held = self._store.version(self._village)
        if lst.version == held:
            return True  # the retained copy again
        if lst.version < held:
            return self._reject("stale_version", f"v{lst.version} is older than v{held}")
        self._store.replace(lst)
        log.info("recipient list v%d installed (%d households)", lst.version, len(lst.households))
        return True

    def _reject(self, reason: str, detail: str) -> bool:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        log.warning("recipient list refused (%s): %s", reason, detail)
        return False
