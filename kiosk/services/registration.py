"""Registration use-cases: one kiosk screen, one person at a time.

The service is the only writer of its sessions: each step looks its session up once, under the
service's lock, and screens read a :class:`RegistrationView` (a frozen snapshot), never the
core session. The rules of the flow (the minimum age and "today" of the NIK check, coaching
when no usable face was captured, the result screen after a face attempt, paging back to
review) live here or in :mod:`kiosk.core`, once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from kiosk.core.audit import check_fields
from kiosk.core.clock import Clock, today
from kiosk.core.family_card import PortalFamily, kk_digest
from kiosk.core.forms import FormDefinition, derived_answers, missing_questions, visible_answers
from kiosk.core.ids import receipt_code, uuid7
from kiosk.core.names import Name
from kiosk.core.nik import parse_nik
from kiosk.core.session import IdCardStep, Outcome, RegistrationSession, State, Timeouts
from kiosk.core.tally import registration_counts
from kiosk.errors import FlowError, SessionExpired
from kiosk.services.ports import (
    Audit,
    Cipher,
    ExistingRegistration,
    FaceCheckResult,
    FaceVerifier,
    FamilyQuery,
    IdCardReader,
    NewRegistration,
    NikParser,
    RegistrationStore,
    Sealer,
    keyed_hash,
)

log = logging.getLogger(__name__)

MIN_REGISTRANT_AGE = 17
"""Youngest age (years) that may register a household; also settles most century doubts."""

FAMILY_ELSEWHERE = "family_card_elsewhere"
"""Audit kind: an assisting agent was shown that the portal holds the No. KK from another kiosk."""

FACE_STATES: frozenset[State] = frozenset({State.CAPTURE, State.NEEDS_AGENT})
"""States a face attempt may start from (waiting for an agent, trying again is allowed)."""


@dataclass(frozen=True)
class FormInfo:
    """Which questionnaire and consent text the kiosk uses."""

    form_id: str
    form_version: str
    consent_version: str
    definition: FormDefinition | None = None  # the questionnaire, for paging back to review


@dataclass(frozen=True)
class DeviceInfo:
    """Facts about this kiosk stamped on every record."""

    device_id: str
    village_code: str
    software_version: str
    boot_id: str


@dataclass(frozen=True)
class RegistrationView:
    """What a screen may know about one registration: a read-only snapshot."""

    state: State
    attempts: int
    retry_budget: int
    outcome: Outcome | None
    receipt_no: str | None
    nik: str | None
    typed_nik: str  # the NIK being corrected, to edit rather than retype
    answers: Mapping[str, Any]
    consent_given: bool
    assisted_by: str | None
    updates_existing: bool  # this visit updates the NIK's registration on this kiosk
    delivery: str | None  # outbox state of the committed record (pending | sent | acked | dead)
    warned: bool
    seconds_left: float
    warning_said: bool
    id_card: IdCardStep | None  # how the e-KTP step ended (None: not asked)
    family_check: str | None = None  # where the No. KK was looked up: portal | kiosk (only)


@dataclass(frozen=True)
class FaceStep:
    """What one face attempt led to, for the screen that follows."""

    face: FaceCheckResult
    coaching: str | None  # no usable face: stay on the camera, coach with this code
    view: RegistrationView


@dataclass(frozen=True)
class ResultScreen:
    """The face result screen: its variant and, for a matched face, the existing receipt."""

    view: RegistrationView
    variant: str | None  # None: no result to show; the state's own screen instead
    existing: ExistingRegistration | None
    existing_no: str | None  # shown only to a face that matched, or with an agent


@dataclass(frozen=True)
class VouchSubject:
    """What an agent's vouch record says about the person waiting for it."""

    nik: str
    attempts: int


def newly_found(before: object, found: ExistingRegistration | None) -> bool:
    """True when ``found`` is a family card registration the session did not know yet (the
    person and any assisting agent are told of it once, before going on)."""
    return found is not None and (
        not isinstance(before, ExistingRegistration)
        or before.registration_id != found.registration_id
    )


def _from_portal(found: PortalFamily | None) -> ExistingRegistration | None:
    """The portal's registration of a family card as this kiosk's services see one (no
    receipt code: another person's is never known here, nor shown)."""
    if found is None:
        return None
    return ExistingRegistration(
        found.registration_id,
        "",
        found.version,
        found.registered_at,
        "",
        found.members_count,
        source="portal",
    )


class RegistrationService:
    """Holds the single active session and carries it from NIK to committed receipt."""

    def __init__(
        self,
        *,
        clock: Clock,
        timeouts: Timeouts,
        retry_budget: int,
        verifier: FaceVerifier,
        sealer: Sealer,
        repo: RegistrationStore,
        cipher: Cipher,
        lookup_key: bytes,
        device: DeviceInfo,
        form: FormInfo,
        nik_parser: NikParser | None = None,
        clock_synced: Callable[[], bool] = lambda: False,
        ensure_space: Callable[[], None] = lambda: None,
        id_cards: IdCardReader | None = None,
        families: FamilyQuery | None = None,
        audit: Audit | None = None,
    ) -> None:
        self._clock = clock
        self._families = families  # the portal's family card lookup; None: this kiosk only
        self._audit = audit  # the agents' audit log: what an assisting agent was shown
        self._timeouts = timeouts
        self._retry_budget = retry_budget
        self._parse_nik: NikParser = nik_parser or self._parse_registrant_nik
        self._verifier = verifier
        self._sealer = sealer
        self._repo = repo
        self._cipher = cipher
        self._lookup_key = lookup_key
        self._device = device
        self._form = form
        self._clock_synced = clock_synced
        self._ensure_space = ensure_space
        self._sessions: dict[str, RegistrationSession] = {}
        self._lock = threading.RLock()
        self._id_cards = id_cards

    def _parse_registrant_nik(self, text: str) -> Any:
        """The NIK rule of a registration: a valid NIK whose holder is 17 or older today."""
        return parse_nik(text, self.today(), min_age=MIN_REGISTRANT_AGE)

    def today(self) -> dt.date:
        """The kiosk's date, for entry checks (the same "today" the NIK rule uses)."""
        return today(self._clock)

    # --- session lifecycle ---------------------------------------------------------------
    def start(self, assisted_by: str | None = None) -> str:
        """Begin a new session (ending any other: the kiosk has one screen); return its token.

        ``assisted_by``: the agent registering the person on their behalf. Raises
        :class:`~kiosk.errors.StorageFullError` before anyone answers a question when the
        data partition could not hold the registration (checked again at submit).
        """
        self._ensure_space()
        with self._lock:
            for token in list(self._sessions):
                self._end(token, "replaced")
            session = RegistrationSession(
                self._clock, self._timeouts, self._retry_budget, key=secrets.token_hex(16)
            )
            session.start()
            session.assisted_by = assisted_by
            token = secrets.token_urlsafe(24)
            self._sessions[token] = session
            return token

    @contextmanager
    def _live(self, token: str | None, *, touch: bool = False) -> Iterator[RegistrationSession]:
        """The one lookup of a step: the live session for ``token``, held under the lock."""
        with self._lock:
            session = self._sessions.get(token or "")
            if session is None:
                raise SessionExpired("no active session; start again")
            if session.tick() is State.IDLE:
                self._sessions.pop(token or "", None)
                self._forget_card()
                raise SessionExpired(f"the session ended ({session.ended_reason}); start again")
            if touch:
                session.touch()
            yield session

    def _view(self, session: RegistrationSession) -> RegistrationView:
        data, record_id = session.data, session.record_id
        return RegistrationView(
            state=session.state,
            attempts=session.attempts,
            retry_budget=session.retry_budget,
            outcome=session.outcome,
            receipt_no=session.receipt_no,
            nik=data.nik,
            typed_nik=data.typed_nik or "",
            answers=MappingProxyType(dict(data.answers)),
            consent_given=data.consent_version is not None,
            assisted_by=session.assisted_by,
            updates_existing=session.existing is not None,
            delivery=self._repo.delivery(record_id) if record_id else None,
            warned=session.warned,
            seconds_left=session.seconds_left,
            warning_said=session.inactivity.said,
            id_card=session.id_card,
            family_check=session.family_check,
        )

    def view(self, token: str | None) -> RegistrationView:
        """A snapshot of the live session for ``token``; raises :class:`SessionExpired`."""
        with self._live(token) as session:
            return self._view(session)

    def end(self, token: str, reason: str) -> None:
        """End a session and wipe its personal data."""
        with self._lock:
            self._end(token, reason)

    def _end(self, token: str, reason: str) -> None:
        session = self._sessions.pop(token, None)
        if session is not None:
            session.end(reason)
        self._forget_card()

    def _forget_card(self) -> None:
        """The e-KTP reference lives no longer than its session (nor its NIK)."""
        if self._id_cards is not None:
            self._id_cards.forget_id_card()

    def end_all(self, reason: str) -> None:
        """End every session (nobody is in front of the kiosk any more)."""
        with self._lock:
            for token in list(self._sessions):
                self._end(token, reason)

    def tick(self) -> None:
        """Apply time-outs to every session (called periodically by the main loop)."""
        with self._lock:
            for token, session in list(self._sessions.items()):
                if session.tick() is State.IDLE:
                    self._sessions.pop(token, None)
                    self._forget_card()

    @property
    def active(self) -> bool:
        """True while someone is mid-registration."""
        return bool(self._sessions)

    # --- activity ------------------------------------------------------------------------
    def touch(self, token: str | None) -> RegistrationView:
        """The person touched the screen; returns the session as it is now."""
        with self._live(token, touch=True) as session:
            return self._view(session)

    def listening(self, token: str, seconds: float) -> None:
        """A prompt of ``seconds`` started playing on the person's screen."""
        with self._live(token) as session:
            session.listening(seconds)

    def warning_shown(self, token: str) -> None:
        """The page showed and spoke the "are you still there?" warning."""
        with self._live(token) as session:
            session.warning_shown()

    # --- steps ---------------------------------------------------------------------------
    def identify(self, token: str, nik_text: str) -> Any:
        """Validate the NIK (raises NikError with a message for the person) and record it."""
        with self._live(token, touch=True) as session:
            if session.state is not State.IDENTIFY:
                raise FlowError("the NIK is typed on the identify screen")
            info = self._parse_nik(nik_text)
            nik = getattr(info, "nik", None) or "".join(ch for ch in nik_text if ch.isdigit())
            session.identify(nik, info)
            # One registration per NIK per kiosk: this visit becomes an update of it, revealed
            # to the person only after the face step (see ``result``).
            session.existing = self._repo.latest_for_nik(keyed_hash(self._lookup_key, "nik", nik))
            return info

    def change_nik(self, token: str) -> None:
        """Go back from the face steps to correct the NIK."""
        with self._live(token) as session:
            session.change_nik()
            self._forget_card()

    # --- the e-KTP step ------------------------------------------------------------------
    def needs_id_card(self, token: str) -> bool:
        """True when the person should first show their e-KTP: no village reference exists
        for the NIK, this kiosk reads cards, and this session has not read or skipped one."""
        with self._live(token) as session:
            nik = session.data.nik
            if (
                self._id_cards is None
                or nik is None
                or session.state is not State.CAPTURE
                or session.id_card is not None
            ):
                return False
        return self._id_cards.id_card_needed(nik)

    def read_id_card(self, token: str) -> str | None:
        """Read the e-KTP at the camera; None when read (the next face check matches against
        its photo), else the coaching code to show. Runs outside the lock, like a face check."""
        if self._id_cards is None:
            raise FlowError("this kiosk does not read e-KTPs")
        with self._live(token, touch=True) as session:
            nik = session.data.nik
            if nik is None or session.state is not State.CAPTURE:
                raise FlowError("the e-KTP is shown after the NIK, before the face")
        coaching = self._id_cards.read_id_card(nik)
        with self._live(token, touch=True) as current:
            if current is not session or current.data.nik != nik:
                self._id_cards.forget_id_card()
                raise FlowError("the session moved on while the card was read")
            if coaching is None:
                current.id_card_done(IdCardStep.READ)
            return coaching

    def skip_id_card(self, token: str) -> None:
        """The person did not bring their e-KTP: go on to the face without one; the
        registration is then marked for the office's review."""
        with self._live(token, touch=True) as session:
            session.id_card_done(IdCardStep.NOT_BROUGHT)

    def existing(self, token: str) -> ExistingRegistration | None:
        """The registration this NIK already has on this kiosk, once the face step is passed."""
        with self._live(token) as session:
            return self._existing(session)

    @staticmethod
    def _existing(session: RegistrationSession) -> ExistingRegistration | None:
        if session.state in (State.IDENTIFY, State.CAPTURE, State.VERIFY, State.NEEDS_AGENT):
            return None
        found = session.existing
        return found if isinstance(found, ExistingRegistration) else None

    def heard(self, token: str, which: str) -> None:
        """The person listens to the consent ``summary`` or the ``full`` text."""
        with self._live(token) as session:
            session.heard(which)

    def check_face(self, token: str) -> FaceStep:
        """One capture-and-verify attempt for the session's NIK.

        The camera runs outside the lock (an attempt takes seconds and the page keeps polling);
        its result is applied to the same session only if that session still waits for it.
        """
        with self._live(token, touch=True) as session:
            if session.state not in FACE_STATES:
                raise FlowError("a face attempt starts from the capture screen")
            if session.state is State.NEEDS_AGENT:
                session.retry_capture()
            nik = session.data.nik
            if nik is None:
                raise FlowError("no NIK recorded for this session")
        result = self._verifier.check(nik)
        if result.outcome is Outcome.REJECTED:
            log.warning("spoof suspected on a capture attempt (liveness=%s)", result.liveness_band)
        with self._live(token, touch=True) as current:
            if current is not session or current.state is not State.CAPTURE:
                raise FlowError("the session moved on during the face attempt")
            if result.needs_coaching:
                return FaceStep(result, result.coaching, self._view(current))
            current.captured(result.capture, result.template)
            evidence = {
                k: v
                for k, v in (("match", result.match_band), ("liveness", result.liveness_band))
                if v is not None
            }
            current.verified(result.outcome, result.reference_source, evidence)
            return FaceStep(result, None, self._view(current))

    def result(self, token: str) -> ResultScreen:
        """The face result screen as it stands now (``variant`` None: none to show)."""
        with self._live(token) as session:
            existing = self._existing(session) if session.state is State.HOUSEHOLD else None
            receipt_no = None
            if existing is not None and session.outcome in (Outcome.VERIFIED, Outcome.VOUCHED):
                receipt_no = existing.receipt_no
            return ResultScreen(self._view(session), session.result_variant(), existing, receipt_no)

    def retry(self, token: str) -> None:
        """Try the camera again after a failed attempt (never a lock-out: also from the agent
        offer)."""
        with self._live(token) as session:
            session.retry_capture()

    def assisted(self, token: str, agent_id: str) -> None:
        """An agent joins the running registration: it is recorded as assisted by them."""
        with self._live(token, touch=True) as session:
            session.assisted_by = agent_id

    def vouch_subject(self, token: str) -> VouchSubject:
        """Whom an agent would vouch for: only a person whose face checks failed."""
        with self._live(token, touch=True) as session:
            if session.state is not State.NEEDS_AGENT or session.data.nik is None:
                raise FlowError("a vouch is possible only after the face checks failed")
            return VouchSubject(session.data.nik, session.attempts)

    def vouched(self, token: str, agent_id: str, vouch_id: str | None) -> None:
        """An agent vouched (record ``vouch_id``): the registration continues as vouched."""
        with self._live(token) as session:
            session.vouched(agent_id)
            session.vouch_id = vouch_id

    def answer(self, token: str, values: dict[str, Any], *, more_screens: bool) -> RegistrationView:
        """Keep one questionnaire screen's validated answers.

        The questionnaire is done after its last screen (``more_screens`` False), or at once
        when the person came from review to change one answer and nothing is missing."""
        with self._live(token) as session:
            one_answer = session.answer(values)
            answers, definition = session.data.answers, self._form.definition
            back = one_answer and (definition is None or not missing_questions(definition, answers))
            if not more_screens or back:
                done = visible_answers(definition, answers) if definition else dict(answers)
                if definition is not None:  # the counts a member list implies, never typed
                    done.update(derived_answers(definition, done))
                session.household_done(done)
            return self._view(session)

    # --- household members and the family card ------------------------------------------
    def family_card(self, token: str, kk: str) -> ExistingRegistration | None:
        """Look the answered No. KK up: a registration of the same family card by another visit
        (not this person's own, already an update) is returned and remembered, and this
        registration becomes its next version instead of a duplicate.

        This kiosk's registrations first; then the portal's (a card registered at another
        kiosk), asked outside the lock with a short bounded wait. Offline or without an answer
        in time the card is checked at this kiosk only, and the session says so
        (``family_check``). A card newly found at the portal in an assisted registration is
        audited (``family_card_elsewhere``: the agent, the portal's registration id) before
        the agent is shown it."""
        with self._live(token) as session:
            own = self._existing_any(session)
            before, agent_id = session.existing_family, session.assisted_by
        found = self._repo.latest_for_kk(keyed_hash(self._lookup_key, "kk", kk))
        where = "kiosk"
        if found is None and self._families is not None:
            answer = self._families.ask(kk_digest(kk))
            if answer is not None:
                where, found = "portal", _from_portal(answer.registration)
        if found and own and found.registration_id == own.registration_id:
            found = None  # the person's own registration: already an update
        if where == "portal" and agent_id and newly_found(before, found):
            self._audit_elsewhere(agent_id, found)
        with self._live(token) as session:
            session.existing_family = found
            session.family_check = where
            return found

    def _audit_elsewhere(self, agent_id: str, found: ExistingRegistration | None) -> None:
        """The audit entry of an agent shown "registered at another kiosk" (raises, and the
        flag is not shown, when the log cannot be written)."""
        if self._audit is None or found is None:
            return
        subject: str | None = found.registration_id
        try:
            check_fields(FAMILY_ELSEWHERE, agent_id, subject)
        except ValueError:  # an id the audit log cannot hold: it still says who saw the flag
            subject = None
        self._audit(FAMILY_ELSEWHERE, agent_id, subject)

    @property
    def family_lookup_online(self) -> bool:
        """True when a No. KK will be asked of the portal now ("checking..." is said)."""
        return self._families is not None and self._families.available

    def known_family(self, token: str) -> ExistingRegistration | None:
        """The registration of this session's family card found by :meth:`family_card`."""
        with self._live(token) as session:
            found = session.existing_family
            return found if isinstance(found, ExistingRegistration) else None

    @staticmethod
    def _existing_any(session: RegistrationSession) -> ExistingRegistration | None:
        found = session.existing
        return found if isinstance(found, ExistingRegistration) else None

    def _in_household(self, session: RegistrationSession) -> RegistrationSession:
        if session.state is not State.HOUSEHOLD:
            raise FlowError("members are added only while the questionnaire is open")
        return session

    def member_draft(self, token: str) -> dict[str, Any] | None:
        """The member being entered (between their two screens), or None."""
        with self._live(token) as session:
            draft = self._in_household(session).data.member_draft
            return dict(draft) if draft is not None else None

    def set_member_draft(self, token: str, draft: Mapping[str, Any] | None) -> None:
        """Keep the member being entered (``index`` None: a new member), or drop it."""
        with self._live(token) as session:
            self._in_household(session).data.member_draft = dict(draft) if draft else None

    def save_member(
        self, token: str, question_id: str, index: int | None, member: Mapping[str, Any]
    ) -> None:
        """Put a checked member (kiosk.core.members) into the list: new, or replacing ``index``;
        the draft is dropped."""
        with self._live(token) as session:
            data = self._in_household(session).data
            people = list(data.answers.get(question_id) or [])
            if index is not None and 0 <= index < len(people):
                people[index] = dict(member)
            else:
                people.append(dict(member))
            data.answers[question_id] = people
            data.member_draft = None

    def remove_member(self, token: str, question_id: str, index: int) -> None:
        """Take the member at ``index`` off the list."""
        with self._live(token) as session:
            data = self._in_household(session).data
            people = list(data.answers.get(question_id) or [])
            if 0 <= index < len(people):
                del people[index]
            data.answers[question_id] = people

    def household(self, token: str, answers: dict[str, Any]) -> RegistrationView:
        """Store the validated questionnaire answers, all at once."""
        with self._live(token) as session:
            session.household_done(answers)
            return self._view(session)

    def edit(self, token: str, one_answer: bool = False) -> None:
        """From consent or review, back to the questionnaire (consent already given stays);
        ``one_answer``: straight back to review after that one screen."""
        with self._live(token) as session:
            session.edit(one_answer)

    def consent(self, token: str, given: bool) -> None:
        """Record the person's consent decision (refusal wipes the session)."""
        with self._live(token) as session:
            session.consent(given, self._form.consent_version)
            if session.state is State.IDLE:
                self._sessions.pop(token, None)

    def submit(self, token: str) -> str:
        """Seal and commit the registration with its outbox row; return the receipt number.

        The receipt is returned only after the SQLite commit: the kiosk never says
        "registered" for a record it could lose.
        """
        with self._live(token) as session:
            return self._submit(session)

    def _submit(self, session: RegistrationSession) -> str:
        if session.state is State.SUBMITTED and session.receipt_no:
            return session.receipt_no  # a repeated "Send": the same receipt
        if session.state is not State.REVIEW:
            raise FlowError("the registration can be sent only from the review screen")
        done = self._repo.by_session_key(session.key)
        if done is not None:  # committed before, the answer was lost: never a second row
            session.record_id = done[0]
            session.submitted(done[1])
            return done[1]
        self._ensure_space()
        now = self._clock.now()
        record_id = uuid7(now, os.urandom(10))
        existing = session.existing if isinstance(session.existing, ExistingRegistration) else None
        family = session.existing_family
        family = family if isinstance(family, ExistingRegistration) else None
        if family is not None:  # the family card is registered: this is its next version; the
            # receipt code is this person's own (another person's code is never shown)
            registration_id, receipt = family.registration_id, self._new_receipt()
            version = max(self._repo.next_version(registration_id), family.version + 1)
        elif existing is not None:
            registration_id, receipt = existing.registration_id, existing.receipt_no
            version = self._repo.next_version(registration_id)
        else:
            registration_id, receipt, version = record_id, self._new_receipt(), 1
        data = session.data
        kk = data.answers.get("kk_number")
        members_count = data.answers.get("members_count")
        assert data.nik is not None and data.consent_version is not None
        outcome = session.outcome or Outcome.PENDING
        synced = self._clock_synced()
        record = {
            "record_id": record_id,
            "registration": {
                "id": registration_id,
                "version": version,
                "same_family_card": family is not None,
            },
            "receipt_no": receipt,
            "device_id": self._device.device_id,
            "village_code": self._device.village_code,
            "software_version": self._device.software_version,
            "nik": data.nik,
            "verification": {
                "outcome": outcome.value,
                "reference_source": data.reference_source,
                "match_band": data.evidence.get("match"),
                "liveness_band": data.evidence.get("liveness"),
                "attempts": session.attempts,
                "assisted_by": session.assisted_by,
                "vouch_id": session.vouch_id,
                "id_card": session.id_card.value if session.id_card else None,
                "review_required": session.review_required,
            },
            "face_template": data.template.hex() if data.template else None,
            "form": {"id": self._form.form_id, "version": self._form.form_version},
            "answers": data.answers,
            "consent": {
                "version": data.consent_version,
                "given": True,
                "heard": data.consent_heard,
            },
            "clock": {
                "wall": now,
                "monotonic": self._clock.monotonic(),
                "boot_id": self._device.boot_id,
                "synced": synced,
            },
        }
        payload = self._sealer.seal(Name.REGISTRATION, record_id, record)
        sealed_template = (
            self._cipher.seal(data.template, f"template:{record_id}") if data.template else None
        )
        self._repo.commit(
            NewRegistration(
                record_id=record_id,
                receipt_no=receipt,
                nik_hmac=keyed_hash(self._lookup_key, "nik", data.nik),
                created_at=now,
                created_mono=self._clock.monotonic(),
                boot_id=self._device.boot_id,
                clock_synced=synced,
                verification=outcome.value,
                form_id=self._form.form_id,
                form_version=self._form.form_version,
                consent_version=data.consent_version,
                assisted_by=session.assisted_by,
                template_sealed=sealed_template,
                registration_id=registration_id,
                version=version,
                session_key=session.key,
                consent_heard=data.consent_heard,
                kk_hmac=keyed_hash(self._lookup_key, "kk", kk) if isinstance(kk, str) else None,
                members_count=members_count if isinstance(members_count, int) else None,
            ),
            kind=Name.REGISTRATION,
            payload=payload,
            counts=registration_counts(data.answers, outcome.value, version),
        )
        session.record_id = record_id
        session.submitted(receipt)
        log.info("registration committed to the outbox (record %s, v%d)", record_id, version)
        return receipt

    def _new_receipt(self) -> str:
        """A receipt code no registration on this kiosk has yet."""
        for _ in range(8):
            code = receipt_code(os.urandom(8))
            if not self._repo.receipt_taken(code):
                return code
        raise FlowError("no free receipt code found")  # 8 collisions in 10^11: a broken RNG
