"""Reports about a listed household and proposals (usulan), filed by a villager or an agent.

Each one is a sealed record through the one way into the outbox: the reporter's NIK and agent
id travel only inside the envelope (sealed to the portal); the kiosk keeps a keyed hash of the
NIK for the per-reporter limit, an audit entry (agent id and record id, never a NIK) and the
meeting report's counts, all in the transaction that commits the record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.agents.accounts import Permission
from kiosk.agents.service import AgentService
from kiosk.core import throttle
from kiosk.core.clock import Clock, today
from kiosk.core.ids import uuid7
from kiosk.core.nik import parse_nik
from kiosk.core.tally import Count, Totals
from kiosk.core.voice import VoiceNote, sealed_form
from kiosk.crypto.atrest import keyed_hash
from kiosk.errors import FormError, InputError, ReportLimited
from kiosk.reports.recipients import Page, Recipient, RecipientList, RecipientStore, page_of
from kiosk.services.ports import Sealer
from kiosk.store import tally as tally_store
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink import messages
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)

REPORT_REASONS: tuple[str, ...] = ("moved", "deceased", "well_off", "other")
"""Why a listed household should no longer receive help."""

PROPOSAL_REASONS: tuple[str, ...] = (
    "bedridden",
    "elderly_alone",
    "disability",
    "lost_income",
    "disaster",
    "other",
)
"""Why an unregistered household needs help (one or more)."""

MAX_NOTE = 280
"""Longest note, characters (about 40 spoken words)."""

_LONG_DIGITS = re.compile(r"\d{12,}")
_NAME = re.compile(r"^[^\W\d_][\w .,'-]{1,79}$")
_RT = re.compile(r"^[0-9]{1,3}$")

FIND_MIN_LETTERS = 3
"""A villager finds a listed household by dusun, RT and at least this many letters of the
head's name: the kiosk shows the few that match, never the list (agents only may see it)."""

FIND_MAX = 4
"""At most this many matches are shown; more means "type more letters"."""


@dataclass(frozen=True)
class ReportLimits:
    """How many reports + proposals one reporter may file, and the wait after that."""

    free: int = 3  # per window
    window_s: float = 86400.0
    base_delay_s: float = 3600.0  # doubling after the free ones
    max_delay_s: float = 86400.0

    def policy(self) -> throttle.ThrottlePolicy:
        """The shared throttle rule (kiosk.core.throttle) with these numbers."""
        return throttle.ThrottlePolicy(self.free, self.base_delay_s, self.max_delay_s)


@dataclass(frozen=True)
class Reporter:
    """Who files: the logged-in agent's session token and/or a villager's NIK (as typed)."""

    agent_token: str | None = None
    nik_text: str | None = None


@dataclass(frozen=True)
class RosterChoice:
    """One of the agent's Dasa Wisma households, offered for a proposal."""

    household_id: str
    head: str
    address: str


def check_note(note: str) -> str:
    """The note trimmed; FormError ``note`` when too long or carrying a NIK-like number."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise FormError(f"the note is longer than {MAX_NOTE} characters", "note")
    if _LONG_DIGITS.search(note):
        raise FormError("the note may not carry a NIK or No. KK", "note_number")
    return note


class CommunityService:
    """The recipient list, household reports, proposals and the meeting report's counts."""

    def __init__(
        self,
        *,
        conn: sqlite3.Connection,
        outbox: OutboxRepository,
        store: RecipientStore,
        agents: AgentService,
        sealer: Sealer,
        clock: Clock,
        lookup_key: bytes,
        device_id: str,
        village_code: str,
        limits: ReportLimits | None = None,
    ) -> None:
        self._conn = conn
        self._outbox = outbox
        self._store = store
        self._agents = agents
        self._sealer = sealer
        self._clock = clock
        self._lookup_key = lookup_key
        self._device_id = device_id
        self._village = village_code
        self.limits = limits or ReportLimits()
        self._lock = threading.Lock()

    def today(self) -> dt.date:
        """The kiosk's date (the meeting report's default range, the NIK rule's century)."""
        return today(self._clock)

    def made_at(self) -> dt.datetime:
        """The kiosk's time now (UTC, like the records), printed on the meeting report."""
        return dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).replace(tzinfo=None)

    # --- the list ----------------------------------------------------------------------------
    def recipients(self) -> RecipientList | None:
        """The list the portal published for this village, or None before the first one."""
        return self._store.current(self._village)

    def page(self, token: str, number: int, dusun: str | None = None) -> Page | None:
        """One screen of the list for the logged-in agent (None: no list yet)."""
        self._agents.current(token)
        lst = self.recipients()
        return None if lst is None else page_of(lst.households, number, dusun)

    def recipient(self, token: str, ref: str) -> Recipient:
        """One listed household; InputError when the list does not hold it."""
        self._agents.current(token)
        lst = self.recipients()
        found = next((h for h in lst.households if h.ref == ref), None) if lst else None
        if found is None:
            raise InputError("this household is not on the recipient list")
        return found

    def find(self, dusun: str, rt: str, letters: str) -> list[Recipient] | None:
        """Listed households of ``dusun`` and RT ``rt`` whose head has a name word starting
        with ``letters`` (at least FIND_MIN_LETTERS); None when more than FIND_MAX match (the
        villager types more). FormError names the field that is missing."""
        lst = self.recipients()
        if lst is None or dusun not in lst.dusun:
            raise FormError("choose the dusun", "dusun")
        rt = rt.strip()
        if not _RT.match(rt):
            raise FormError("the RT is a number of 1 to 3 digits", "rt")
        rt = rt.lstrip("0") or "0"
        start = " ".join(letters.lower().split())
        if len(start.replace(" ", "")) < FIND_MIN_LETTERS:
            raise FormError("type at least three letters of the name", "letters")
        found = [
            h
            for h in lst.households
            if h.dusun == dusun
            and (h.rt.lstrip("0") or "0") == rt
            and (
                h.name.lower().startswith(start)
                or any(w.startswith(start) for w in h.name.lower().split())
            )
        ]
        return None if len(found) > FIND_MAX else found

    def listed(self, ref: str) -> Recipient:
        """One listed household by its ref (the villager's view checks the ref came from
        their own :meth:`find`); InputError when the list does not hold it."""
        lst = self.recipients()
        found = next((h for h in lst.households if h.ref == ref), None) if lst else None
        if found is None:
            raise InputError("this household is not on the recipient list")
        return found

    def roster_choices(self, token: str) -> list[RosterChoice]:
        """The agent's Dasa Wisma households ([] for roles without a roster)."""
        agent = self._agents.current(token).agent
        if not agent.may(Permission.ROSTER):
            return []
        out = []
        for s in self._agents.my_roster(token):
            h = s.household
            heads = [m.name for m in h.members if m.relation == "head"] or [
                m.name for m in h.members
            ]
            out.append(RosterChoice(h.household_id, heads[0] if heads else "", h.address))
        return out

    # --- filing ------------------------------------------------------------------------------
    def report(
        self,
        reporter: Reporter,
        *,
        ref: str,
        reason: str,
        note: str = "",
        voice: VoiceNote | None = None,
    ) -> str:
        """File "this listed household is not eligible" (``voice``: a spoken note, sealed in);
        returns the record id."""
        if reason not in REPORT_REASONS:
            raise FormError(f"unknown reason {reason!r}", "reason")
        note = check_note(note)
        lst = self.recipients()
        found = next((h for h in lst.households if h.ref == ref), None) if lst else None
        if lst is None or found is None:
            raise InputError("this household is not on the recipient list")
        record = {
            "household_ref": found.ref,
            "list_version": lst.version,
            "reason": reason,
            "note": note,
            "voice_note": sealed_form(voice),
        }
        return self._file(Name.RECIPIENT_REPORT, reporter, record, found.dusun)

    def propose(
        self,
        reporter: Reporter,
        *,
        reasons: Sequence[str],
        name: str = "",
        dusun: str = "",
        rt: str = "",
        note: str = "",
        roster_household_id: str | None = None,
        voice: VoiceNote | None = None,
    ) -> str:
        """Propose a household that needs help; with ``roster_household_id`` one of the
        agent's Dasa Wisma households (its head and address come from the roster)."""
        chosen = list(dict.fromkeys(reasons))
        if not chosen or any(r not in PROPOSAL_REASONS for r in chosen):
            raise FormError("choose at least one reason", "reasons")
        note = check_note(note)
        dusun = " ".join(dusun.split())
        lst = self.recipients()
        if not dusun or len(dusun) > 40 or (lst is not None and dusun not in lst.dusun):
            raise FormError("choose the dusun", "dusun")
        if not _RT.match(rt.strip()):
            raise FormError("the RT is a number of 1 to 3 digits", "rt")
        address = ""
        if roster_household_id:
            if reporter.agent_token is None:
                raise InputError("only an agent proposes a household from a roster")
            stored = self._agents.household(reporter.agent_token, roster_household_id)
            heads = [m.name for m in stored.household.members if m.relation == "head"]
            name = heads[0] if heads else name
            address = stored.household.address
        name = " ".join(name.split())
        if not _NAME.match(name) or _LONG_DIGITS.search(name):
            raise FormError("write the name of the head of the household", "name")
        record = {
            "household": {"name": name, "dusun": dusun, "rt": rt.strip(), "address": address},
            "roster_household_id": roster_household_id,
            "reasons": chosen,
            "note": note,
            "voice_note": sealed_form(voice),
        }
        return self._file(Name.PROPOSAL, reporter, record, dusun)

    def _file(self, kind: str, reporter: Reporter, body: dict[str, Any], dusun: str) -> str:
        agent_id = None
        if reporter.agent_token is not None:
            agent_id = self._agents.current(reporter.agent_token).agent.agent_id
        nik = None
        if reporter.nik_text:
            nik = parse_nik(reporter.nik_text, self.today()).nik  # NikError: said on screen
        if agent_id is None and nik is None:
            raise InputError("a report needs the reporter's NIK or an agent")
        key = (
            keyed_hash(self._lookup_key, "reporter", nik)
            if nik is not None
            else f"agent:{agent_id}"
        )
        with self._lock:
            now = self._clock.now()
            state = self._throttle_state(key, now)
            verdict = throttle.check(state, self.limits.policy(), now)
            if not verdict.allowed:
                self._agents.audit.record("report_limited", agent_id, None)
                raise ReportLimited("too many reports from this person today", verdict.wait_s)
            record_id = uuid7(now, os.urandom(10))
            record = {
                "record_id": record_id,
                "kind": kind,
                "device_id": self._device_id,
                "village_code": self._village,
                **body,
                "reporter": {"nik": nik, "agent_id": agent_id},
                "clock": {"wall": now, "monotonic": self._clock.monotonic()},
            }
            messages.check(kind, record)  # the portal validates the same schema
            payload = self._sealer.seal(kind, record_id, record)
            after = throttle.record_failure(state, now)  # one more filed
            with transaction(self._conn) as c:
                c.execute(
                    "INSERT INTO report_throttle (key, filed, last_at) VALUES (?,?,?)"
                    " ON CONFLICT(key) DO UPDATE SET filed = excluded.filed,"
                    " last_at = excluded.last_at",
                    (key, after.failures, after.last_failure_at),
                )
                self._agents.audit.append(c, kind, agent_id, record_id)
                self._outbox.enqueue(
                    record_id, kind, payload, now, tx=c, counts=[Count(kind, dusun)]
                )
        log.info("%s %s queued for the portal", kind, record_id)
        return record_id

    def _throttle_state(self, key: str, now: float) -> throttle.ThrottleState:
        row = self._conn.execute(
            "SELECT filed, last_at FROM report_throttle WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return throttle.ThrottleState()
        state = throttle.normalise(throttle.ThrottleState(int(row[0]), float(row[1])), now)
        if now - state.last_failure_at >= self.limits.window_s:
            return throttle.ThrottleState()  # a quiet day: the count starts again
        return state

    # --- the meeting report ------------------------------------------------------------------
    def totals(self, token: str, first: dt.date, last: dt.date) -> Totals:
        """The counts of ``first``..``last`` for the logged-in agent; FormError on a bad range."""
        self._agents.current(token)
        if last < first:
            raise FormError("the end date is before the start date", "last")
        if (last - first).days > 366:
            raise FormError("choose at most one year", "last")
        return tally_store.totals(self._conn, first, last)

    def audit_report(self, token: str, how: str) -> None:
        """Audit that the agent printed or exported the meeting report (``how``: print/pdf)."""
        agent = self._agents.current(token).agent
        self._agents.audit.record("meeting_report", agent.agent_id, how)
