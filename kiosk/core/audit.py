"""The audit log as a hash chain: who did what, as ids and event kinds only.

Each entry's hash covers its fields and the previous entry's hash, so changing, deleting or
reordering any entry breaks every hash after it. Entries carry no personal data: the kind comes
from a closed table, actor and subject are short ids, and anything that looks like a NIK or a
No. KK (16 digits) is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

KINDS: dict[str, str] = {
    "agent_enrolled": "an agent account was created or updated",
    "agent_login_ok": "an agent logged in (PIN and face)",
    "agent_login_failed": "a login attempt failed (PIN or face)",
    "agent_login_throttled": "a login attempt was refused by the throttle",
    "agent_logout": "an agent logged out",
    "agent_timeout": "an agent session timed out",
    "agent_presence_lost": "an agent session ended: nobody in front of the kiosk",
    "agent_duty_on": "an agent went on duty",
    "agent_duty_off": "an agent went off duty",
    "assisted_start": "an agent started an assisted registration",
    "vouch": "an agent vouched for a resident after failed face checks",
    "vouch_refused": "a vouch was refused (the agent's own face check failed)",
    "help_requested": "someone asked for an agent (button or screen)",
    "help_taken": "an agent took a help request",
    "help_cancelled": "a help request was cancelled",
    "roster_edit": "a cadre edited a household in the roster",
    "roster_portal_applied": "a roster update from the portal was applied",
    "roster_conflict": "a roster update conflicted with a local edit",
    "audit_uploaded": "a batch of audit entries was queued for the portal",
    "spoof_suspected": "a face check ended not live (subject: passive band:challenge kind)",
    "status_lookup": "an agent looked up a resident's status on their behalf",
    "recipient_report": "a listed household was reported as not eligible (subject: record id)",
    "proposal": "an unregistered household was proposed for help (subject: record id)",
    "report_limited": "a household report or proposal was refused: too many from one reporter",
    "meeting_report": "a village meeting report was printed or exported (no personal data)",
    "objection_filed": "an agent filed an objection (sanggah) on a resident's behalf",
    "family_card_elsewhere": (
        "an assisting agent was shown that the portal holds this No. KK from another kiosk"
        " (subject: that registration's id)"
    ),
}
"""Event kind -> meaning. Only these kinds may be recorded."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_LONG_DIGITS = re.compile(r"\d{12,}")
_UUID = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9A-Za-z])"
)


@dataclass(frozen=True)
class AuditEntry:
    """One link of the chain."""

    seq: int
    at: float  # wall seconds
    kind: str
    actor: str | None
    subject: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a chain: ok, or the first bad sequence number and why."""

    ok: bool
    entries: int
    head: str
    bad_seq: int | None = None
    reason: str | None = None


def check_fields(kind: str, actor: str | None, subject: str | None) -> None:
    """Refuse unknown kinds and anything in actor/subject that is not a short id."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    for name, value in (("actor", actor), ("subject", subject)):
        if value is None:
            continue
        if not isinstance(value, str) or not _ID.match(value):
            raise ValueError(f"audit {name} must be a short id (letters, digits, . _ : -)")
        # A record id's last UUID group is all digits about once in 280 ids: not a NIK.
        if _LONG_DIGITS.search(_UUID.sub("-", value)):
            raise ValueError(f"audit {name} looks like a NIK or No. KK; record ids only")


def entry_hash(
    seq: int, at: float, kind: str, actor: str | None, subject: str | None, prev_hash: str
) -> str:
    """Hex SHA-256 over the canonical JSON of an entry's fields and the previous hash."""
    body = json.dumps(
        [seq, repr(float(at)), kind, actor, subject, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def next_entry(
    prev: AuditEntry | None, at: float, kind: str, actor: str | None, subject: str | None
) -> AuditEntry:
    """The entry that follows ``prev`` (None for the first one)."""
    check_fields(kind, actor, subject)
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.hash
    return AuditEntry(
        seq,
        at,
        kind,
        actor,
        subject,
        prev_hash,
        entry_hash(seq, at, kind, actor, subject, prev_hash),
    )


def verify(entries: Iterable[AuditEntry], anchors: Sequence[tuple[int, str]] = ()) -> ChainReport:
    """Check order, links and hashes of ``entries`` (oldest first).

    ``anchors`` are (seq, hash) pairs known from elsewhere (e.g. heads already uploaded to
    the portal); a chain that no longer reaches them was truncated or rewritten.
    """
    prev_hash = GENESIS
    expected = 1
    count = 0
    known: dict[int, str] = {}
    for e in entries:
        if e.seq != expected:
            return ChainReport(False, count, prev_hash, e.seq, f"expected entry {expected}")
        if e.prev_hash != prev_hash:
            return ChainReport(False, count, prev_hash, e.seq, "link to the previous entry broken")
        if e.kind not in KINDS:
            return ChainReport(False, count, prev_hash, e.seq, "unknown event kind")
        if entry_hash(e.seq, e.at, e.kind, e.actor, e.subject, e.prev_hash) != e.hash:
            return ChainReport(False, count, prev_hash, e.seq, "entry content does not match hash")
        known[e.seq] = e.hash
        prev_hash = e.hash
        expected += 1
        count += 1
    for seq, head in anchors:
        if known.get(seq) != head:
            return ChainReport(
                False, count, prev_hash, seq, "an uploaded head is missing or changed"
            )
    return ChainReport(True, count, prev_hash)
