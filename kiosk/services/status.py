"""Status check: a person sees their registration with their NIK and receipt code, no face.

The receipt code (12 digits, 11 of them random, see :mod:`kiosk.core.ids`) is the secret; the
NIK says whose it is. Both must match one registration on this kiosk. Wrong codes are counted
per check and per kiosk (a bare NIK reveals nothing, and codes cannot be tried in bulk). A
person who lost the code can still open their record with the face check, which shows it only
on an outcome of ``verified`` (a trusted reference matched now). An agent may look up a status
on a person's behalf, by the same path (with the receipt code, the portal first); every such
lookup is written to the audit log.

Where the status comes from is part of the answer. With a :class:`StatusQuery` (the portal
link) a typed receipt code is first asked of the portal (a sealed query by NIK digest, a signed
answer, a bounded wait): the portal knows registrations made at any kiosk, their decisions and
objections. Offline, or with no answer in time, the kiosk's own record is shown: the portal's
status messages stored on it, else what the kiosk holds and whether it has been sent. The
:class:`StatusShown` says which source it is, as of when, and why not the portal (``WHY``).
"""

from __future__ import annotations

import contextlib
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.core.clock import Clock, today
from kiosk.core.ids import parse_receipt
from kiosk.core.nik import parse_nik
from kiosk.core.portal_status import PortalStatus, nik_digest
from kiosk.core.session import Inactivity, Outcome, Timeouts
from kiosk.errors import FlowError, SessionExpired
from kiosk.services.objection import ObjectionTarget
from kiosk.services.ports import (
    OBJECTION_OPEN_STATES,
    Audit,
    FaceCheckResult,
    FaceVerifier,
    NikParser,
    ObjectionStatus,
    ObjectionStore,
    RegistrationStatus,
    RegistrationStore,
    StatusQuery,
    keyed_hash,
)

SHOWN_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.VERIFIED})
"""Face outcomes that open a person's status; PENDING/VOUCHED/RETRY/REJECTED do not."""

CODE_TRIES = 5
"""Wrong receipt codes one status check may type before it ends."""
KIOSK_CODE_FAILURES = 30
"""Wrong receipt codes in ``KIOSK_WINDOW_S`` after which the code check pauses kiosk-wide."""
KIOSK_WINDOW_S = 600.0


@dataclass
class StatusSession:
    """One status check in progress: the claimed NIK, attempts, and the result once opened."""

    inactivity: Inactivity
    nik: str | None = None
    attempts: int = 0  # face attempts
    code_failures: int = 0
    verified: bool = False
    opened_receipt: str | None = None  # opened by this receipt code; None: by a verified face
    portal: PortalStatus | None = None  # the portal's signed answer for this check, if any
    why: str = "no_code"  # without a portal answer: offline | not_held | no_code (see WHY)

    @property
    def warned(self) -> bool:
        """True while the "are you still there?" warning is due."""
        return self.inactivity.warned

    def wipe(self) -> None:
        """Forget everything personal."""
        self.nik = None
        self.opened_receipt = None
        self.verified = False
        self.portal = None
        self.why = "no_code"


@dataclass(frozen=True)
class StatusView:
    """What a screen may know about a status check: a read-only snapshot."""

    nik: str | None
    attempts: int
    warned: bool
    seconds_left: float
    warning_said: bool


@dataclass(frozen=True)
class StatusAnswer:
    """What one face attempt of a status check led to."""

    shown: bool  # True: ``records`` may be shown to the person in front of the kiosk
    records: tuple[RegistrationStatus, ...]
    face: FaceCheckResult
    attempts: int

    @property
    def coaching(self) -> str | None:
        """No usable face was captured: the coaching code to show (the try did not count)."""
        return self.face.coaching if self.face.needs_coaching else None


@dataclass(frozen=True)
class StatusShown:
    """What a status screen shows, and where it comes from."""

    source: str  # portal (answered now) | kiosk (this kiosk's own record)
    as_of: float | None  # portal: when it answered; kiosk: its last portal message, if any
    records: tuple[RegistrationStatus, ...]  # newest version first
    objections: tuple[ObjectionStatus, ...] = ()
    why: str = ""  # source kiosk: why not the portal's answer, one of WHY


WHY: tuple[str, ...] = ("offline", "not_held", "no_code")
"""Why a status shows the kiosk's own record: the office could not be asked (no link, no answer
in time, a refused or forged answer); the office answered that it does not hold this code +
NIK; or no receipt code was given (opened by face, or an agent's lookup by NIK alone)."""


@dataclass(frozen=True)
class CodeAnswer:
    """What one typed receipt code led to."""

    result: str  # shown | malformed | not_found | too_many | paused
    records: tuple[RegistrationStatus, ...] = ()
    tries_left: int = 0
    offline: bool = False  # not_found by this kiosk alone: the office could not be asked


class StatusService:
    """Holds at most one status check at a time and answers it by receipt code or face."""

    def __init__(
        self,
        *,
        clock: Clock,
        timeouts: Timeouts,
        verifier: FaceVerifier,
        repo: RegistrationStore,
        lookup_key: bytes,
        audit: Audit | None = None,
        portal: StatusQuery | None = None,
        objections: ObjectionStore | None = None,
        nik_parser: NikParser | None = None,
    ) -> None:
        self._clock = clock
        self._timeouts = timeouts
        self._parse_nik: NikParser = nik_parser or self._parse_any_nik
        self._verifier = verifier
        self._repo = repo
        self._lookup_key = lookup_key
        self._audit = audit
        self._portal = portal
        self._objections = objections
        self._on_end: list[Callable[[str], None]] = []
        self._sessions: dict[str, StatusSession] = {}
        self._failures: deque[float] = deque()

    def _parse_any_nik(self, text: str) -> Any:
        """The status check's NIK rule: any valid NIK (its century chosen by today)."""
        return parse_nik(text, today(self._clock))

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        """Begin a status check (ending any other); return its token."""
        for token in list(self._sessions):
            self.end(token)
        token = secrets.token_urlsafe(24)
        self._sessions[token] = StatusSession(inactivity=Inactivity(self._clock))
        return token

    def get(self, token: str | None) -> StatusSession:
        """The live status check for ``token``; raises :class:`SessionExpired` when gone."""
        session = self._sessions.get(token or "")
        if session is None:
            raise SessionExpired("no active status check; start again")
        if session.inactivity.expired(self._timeouts.warning_s, self._timeouts.grace_s):
            self.end(token or "")
            raise SessionExpired("the status check timed out; start again")
        return session

    def view(self, token: str | None) -> StatusView:
        """A snapshot of the live status check; raises :class:`SessionExpired` when gone."""
        check = self.get(token)
        t = self._timeouts
        return StatusView(
            nik=check.nik,
            attempts=check.attempts,
            warned=check.warned,
            seconds_left=check.inactivity.seconds_left(t.warning_s, t.grace_s),
            warning_said=check.inactivity.said,
        )

    def touch(self, token: str | None) -> None:
        """The person did something: reset the inactivity timer."""
        self.get(token).inactivity.touch()

    def listening(self, token: str | None, seconds: float) -> None:
        """A prompt of ``seconds`` started playing: listening is activity."""
        self.get(token).inactivity.listening(seconds)

    def warning_shown(self, token: str | None) -> None:
        """The page showed and spoke the "are you still there?" warning."""
        self.get(token).inactivity.warning_shown()

    def seconds_left(self, token: str | None) -> float:
        """Seconds until the check is abandoned if nothing happens."""
        return self.get(token).inactivity.seconds_left(
            self._timeouts.warning_s, self._timeouts.grace_s
        )

    def tick(self) -> None:
        """Apply time-outs (called periodically by the main loop)."""
        for token in list(self._sessions):
            with contextlib.suppress(SessionExpired):
                self.get(token)

    def end(self, token: str) -> None:
        """End a status check and wipe what it held (and what hangs on it: an objection draft)."""
        session = self._sessions.pop(token, None)
        if session is not None:
            session.wipe()
            for callback in self._on_end:
                callback(token)

    def on_end(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(token)`` when a status check ends (time-out, finish, replaced)."""
        self._on_end.append(callback)

    @property
    def portal_available(self) -> bool:
        """True when a typed code will be asked of the portal now ("checking..." is said)."""
        return self._portal is not None and self._portal.available

    @property
    def active(self) -> bool:
        """True while a status check is in progress."""
        return bool(self._sessions)

    # --- steps ---------------------------------------------------------------------------
    def parse_nik(self, nik_text: str) -> Any:
        """Check a NIK by the status check's rule (raises NikError); nothing is looked up."""
        return self._parse_nik(nik_text)

    def identify(self, token: str, nik_text: str) -> Any:
        """Validate the claimed NIK (raises NikError); nothing about it is revealed yet."""
        session = self.get(token)
        info = self._parse_nik(nik_text)
        session.nik = getattr(info, "nik", None) or "".join(c for c in nik_text if c.isdigit())
        session.verified = False
        session.opened_receipt = None
        session.inactivity.touch()
        return info

    def receipt(self, token: str, code_text: str) -> CodeAnswer:
        """Open the registration whose receipt code and NIK both match.

        A code with a wrong check digit is a typing mistake and costs no try; a well-formed
        code that matches nothing for this NIK does. The answer never says whether the NIK has
        a registration.
        """
        session = self.get(token)
        if session.nik is None:
            raise FlowError("type the NIK before the receipt code")
        session.inactivity.touch()
        code = parse_receipt(code_text)
        if code is None:
            return CodeAnswer("malformed", tries_left=CODE_TRIES - session.code_failures)
        if self._paused():
            return CodeAnswer("paused")
        answer, why = self._ask_portal(session.nik, code)
        found = self._repo.by_receipt(self._hash(session.nik), code)
        if answer is not None or found:
            session.verified = True
            session.opened_receipt = code
            session.portal, session.why = answer, why
            view = self._shown(session)
            return CodeAnswer("shown", view.records if view else tuple(found))
        session.code_failures += 1
        self._failures.append(self._clock.monotonic())
        if session.code_failures >= CODE_TRIES:
            self.end(token)
            return CodeAnswer("too_many")
        return CodeAnswer(
            "not_found",
            tries_left=CODE_TRIES - session.code_failures,
            offline=why == "offline",
        )

    def check_face(self, token: str) -> StatusAnswer:
        """One face attempt against the claimed NIK; records are released only on VERIFIED."""
        session = self.get(token)
        if session.nik is None:
            raise FlowError("type the NIK before the face check")
        result = self._verifier.check(session.nik)
        session.inactivity.touch()
        if result.needs_coaching:
            return StatusAnswer(False, (), result, session.attempts)
        session.attempts += 1
        if result.outcome in SHOWN_OUTCOMES:
            session.verified = True
            session.opened_receipt = None
            session.portal, session.why = None, "no_code"
            return StatusAnswer(True, tuple(self._lookup(session.nik)), result, session.attempts)
        return StatusAnswer(False, (), result, session.attempts)

    def records(self, token: str) -> tuple[RegistrationStatus, ...] | None:
        """The opened records as stored now (newest version first), or None when nothing may
        be shown. Read afresh each time: a status the portal sends meanwhile shows at once."""
        view = self._shown(self.get(token))
        return None if view is None else view.records

    def shown(self, token: str) -> StatusShown | None:
        """What the status screen shows now, with its source, or None when nothing may be."""
        return self._shown(self.get(token))

    def verified_nik(self, token: str) -> str | None:
        """The NIK of this check once the receipt code or the face opened it, else None (the
        villager's report or proposal is filed under it: kiosk.reports)."""
        session = self.get(token)
        return session.nik if session.verified else None

    def target(self, token: str, registration_id: str) -> ObjectionTarget | None:
        """The decided registration of this opened check a person may object to, or None."""
        session = self.get(token)
        view = self._shown(session)
        if view is None or session.nik is None:
            return None
        return _target(session.nik, view, registration_id)

    def _ask_portal(self, nik: str, code: str) -> tuple[PortalStatus | None, str]:
        """The portal's answer when it holds this code + NIK, else None and why (one of WHY)."""
        if self._portal is None or not self._portal.available:
            return None, "offline"
        answer = self._portal.ask(nik_digest(nik), code)
        if answer is None:
            return None, "offline"  # no answer in time, refused or forged
        if answer.result != "found" or not answer.registrations:
            return None, "not_held"
        if self._objections is not None:  # the kiosk's own rows learn the portal's states
            for o in answer.objections:
                self._objections.set_state(o.objection_id, o.state, o.reason, o.state_at)
        return answer, ""

    def _shown(self, session: StatusSession) -> StatusShown | None:
        if not session.verified or session.nik is None:
            return None
        if session.opened_receipt is not None:
            local = self._repo.by_receipt(self._hash(session.nik), session.opened_receipt)
        else:
            local = self._lookup(session.nik)
        return self._view(local, session.portal, session.why)

    def _view(
        self, local: list[RegistrationStatus], answer: PortalStatus | None, why: str
    ) -> StatusShown:
        """The portal's answer when there is one, else this kiosk's record and why."""
        if answer is not None:
            records = tuple(_from_portal(answer))
            return StatusShown("portal", answer.at, records, self._merged(answer, records))
        decided = [r.status_at for r in local if r.status_at is not None]
        return StatusShown(
            "kiosk", max(decided) if decided else None, tuple(local), self._local(local), why
        )

    def _local(
        self, records: tuple[RegistrationStatus, ...] | list[RegistrationStatus]
    ) -> tuple[ObjectionStatus, ...]:
        if self._objections is None:
            return ()
        ids = dict.fromkeys(r.registration_id or r.record_id for r in records)
        return tuple(o for rid in ids for o in self._objections.for_registration(rid))

    def _merged(
        self, answer: PortalStatus, records: tuple[RegistrationStatus, ...]
    ) -> tuple[ObjectionStatus, ...]:
        """The portal's objections, plus this kiosk's not yet held by the portal."""
        out = [
            ObjectionStatus(
                o.objection_id,
                o.registration_id,
                o.reason_code,
                o.filed_at,
                "",
                o.state,
                o.reason,
                o.state_at,
                "acked",
            )
            for o in answer.objections
        ]
        known = {o.objection_id for o in out}
        out += [o for o in self._local(records) if o.objection_id not in known]
        return tuple(sorted(out, key=lambda o: -o.filed_at))

    def open_for_agent(self, nik_text: str, agent_id: str, code_text: str = "") -> str:
        """An authenticated agent opens a resident's status as a check of its own (audited),
        e.g. to file an objection on their behalf; with the receipt code the portal is asked
        first, as in :meth:`lookup_for_agent`; returns the check's token."""
        nik, code = self._agent_keys(nik_text, agent_id, code_text)
        answer, why = self._ask_portal(nik, code) if code else (None, "no_code")
        token = self.start()
        session = self._sessions[token]
        session.nik, session.verified = nik, True
        session.portal, session.why = answer, why
        view = self._shown(session)
        self._audit_lookup(agent_id, view)
        return token

    def lookup_for_agent(
        self, nik_text: str, agent_id: str, code_text: str = ""
    ) -> StatusShown | None:
        """An authenticated agent looks up a resident's status on their behalf (audited): with
        the receipt code, the portal's answer when online (registrations from any kiosk), else
        every registration of the NIK on this kiosk, saying which. A bad NIK raises NikError; a
        malformed code gives None (nothing looked up)."""
        nik, code = self._agent_keys(nik_text, agent_id, code_text)
        if code_text.strip() and code is None:
            return None
        answer, why = self._ask_portal(nik, code) if code else (None, "no_code")
        view = self._view(self._lookup(nik), answer, why)
        self._audit_lookup(agent_id, view)
        return view

    def _agent_keys(self, nik_text: str, agent_id: str, code_text: str) -> tuple[str, str | None]:
        """(NIK, well-formed code or None) of an assisted lookup; refuses one with no agent id
        or no audit log (raises NikError for a bad NIK)."""
        if not agent_id:
            raise FlowError("an agent id is required for an assisted status lookup")
        if self._audit is None:
            raise FlowError("assisted status lookups need the audit log")
        info = self._parse_nik(nik_text)
        nik = getattr(info, "nik", None) or "".join(c for c in nik_text if c.isdigit())
        return nik, parse_receipt(code_text) if code_text.strip() else None

    def _audit_lookup(self, agent_id: str, view: StatusShown | None) -> None:
        records = view.records if view is not None else ()
        assert self._audit is not None
        self._audit("status_lookup", agent_id, records[0].registration_id if records else None)

    def _paused(self) -> bool:
        """True while too many wrong codes were typed on this kiosk recently."""
        now = self._clock.monotonic()
        while self._failures and now - self._failures[0] > KIOSK_WINDOW_S:
            self._failures.popleft()
        return len(self._failures) >= KIOSK_CODE_FAILURES

    def _hash(self, nik: str) -> str:
        return keyed_hash(self._lookup_key, "nik", nik)

    def _lookup(self, nik: str) -> list[RegistrationStatus]:
        return self._repo.by_nik(self._hash(nik))


def _from_portal(answer: PortalStatus) -> list[RegistrationStatus]:
    """The portal's registrations in the kiosk's own shape (held by the portal: acked)."""
    return [
        RegistrationStatus(
            record_id=r.record_id,
            receipt_no=r.receipt_no,
            created_at=r.received_at,
            verification=r.verification or "",
            status=r.status,
            status_reason=r.reason,
            outbox_state="acked",
            registration_id=r.registration_id,
            version=r.version,
            status_at=r.decided_at if r.decided_at is not None else answer.at,
        )
        for r in answer.registrations
    ]


def _target(nik: str, view: StatusShown, registration_id: str) -> ObjectionTarget | None:
    """The newest version of ``registration_id`` in ``view``, when it is decided."""
    for rec in view.records:  # newest first
        if (rec.registration_id or rec.record_id) != registration_id:
            continue
        if rec.status not in ("eligible", "not_eligible") or rec.status_at is None:
            return None
        open_one = any(
            o.registration_id == registration_id and o.state in OBJECTION_OPEN_STATES
            for o in view.objections
        )
        return ObjectionTarget(
            nik=nik,
            registration_id=registration_id,
            record_id=rec.record_id,
            receipt_no=rec.receipt_no,
            status=rec.status,
            decided_at=rec.status_at,
            source=view.source,
            open_objection=open_one,
        )
    return None


def status_source(record: RegistrationStatus) -> str:
    """Where a record's status comes from: ``portal`` (the office answered) or ``kiosk``."""
    return "portal" if record.status_at is not None else "kiosk"


def status_stage(record: RegistrationStatus) -> str:
    """The stage a villager is told about, one of STAGES."""
    if record.status in ("eligible", "not_eligible"):
        return "decided"
    if record.status == "waiting" and record.outbox_state != "acked":
        return "saved"  # on the kiosk, not yet held by the office
    if record.status != "verified" and record.verification in ("pending", "vouched"):
        return record.verification  # the office still has to check the face or the vouch
    return "review"


STAGES: tuple[str, ...] = ("saved", "pending", "vouched", "review", "decided")
"""What a status screen explains: saved on the kiosk, face pending, vouched, under review,
decided (eligible or not)."""
