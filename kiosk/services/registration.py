"""Registration use-cases: one kiosk screen, one person at a time."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.core.clock import Clock
from kiosk.core.ids import receipt_code, uuid7
from kiosk.core.session import Outcome, RegistrationSession, State, Timeouts
from kiosk.crypto.atrest import AtRestCipher, keyed_hash
from kiosk.errors import FlowError, SessionExpired
from kiosk.services.ports import FaceCheckResult, FaceVerifier, NikParser, Sealer
from kiosk.store.registrations import (
    ExistingRegistration,
    NewRegistration,
    RegistrationRepository,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormInfo:
    """Which questionnaire and consent text the kiosk uses."""

    form_id: str
    form_version: str
    consent_version: str


@dataclass(frozen=True)
class DeviceInfo:
    """Facts about this kiosk stamped on every record."""

    device_id: str
    village_code: str
    software_version: str
    boot_id: str


class RegistrationService:
    """Holds the single active session and carries it from NIK to committed receipt."""

    def __init__(
        self,
        *,
        clock: Clock,
        timeouts: Timeouts,
        retry_budget: int,
        nik_parser: NikParser,
        verifier: FaceVerifier,
        sealer: Sealer,
        repo: RegistrationRepository,
        cipher: AtRestCipher,
        lookup_key: bytes,
        device: DeviceInfo,
        form: FormInfo,
        clock_synced: Callable[[], bool] = lambda: False,
        ensure_space: Callable[[], None] = lambda: None,
    ) -> None:
        self._clock = clock
        self._timeouts = timeouts
        self._retry_budget = retry_budget
        self._parse_nik = nik_parser
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

    # --- session lifecycle ---------------------------------------------------------------
    def start(self) -> str:
        """Begin a new session (ending any other: the kiosk has one screen); return its token.

        Raises :class:`~kiosk.errors.StorageFullError` before anyone answers a question when the
        data partition could not hold the registration (checked again at submit).
        """
        self._ensure_space()
        for token in list(self._sessions):
            self.end(token, "replaced")
        session = RegistrationSession(
            self._clock, self._timeouts, self._retry_budget, key=secrets.token_hex(16)
        )
        session.start()
        token = secrets.token_urlsafe(24)
        self._sessions[token] = session
        return token

    def get(self, token: str | None) -> RegistrationSession:
        """The live session for ``token``; raises :class:`SessionExpired` when it is gone."""
        session = self._sessions.get(token or "")
        if session is None:
            raise SessionExpired("no active session; start again")
        if session.tick() is State.IDLE:
            self._sessions.pop(token or "", None)
            raise SessionExpired(f"the session ended ({session.ended_reason}); start again")
        return session

    def end(self, token: str, reason: str) -> None:
        """End a session and wipe its personal data."""
        session = self._sessions.pop(token, None)
        if session is not None:
            session.end(reason)

    def end_all(self, reason: str) -> None:
        """End every session (nobody is in front of the kiosk any more)."""
        for token in list(self._sessions):
            self.end(token, reason)

    def tick(self) -> None:
        """Apply time-outs to every session (called periodically by the main loop)."""
        for token, session in list(self._sessions.items()):
            if session.tick() is State.IDLE:
                self._sessions.pop(token, None)

    @property
    def active(self) -> bool:
        """True while someone is mid-registration."""
        return bool(self._sessions)

    # --- steps ---------------------------------------------------------------------------
    def identify(self, token: str, nik_text: str) -> Any:
        """Validate the NIK (raises NikError with a message for the person) and record it."""
        session = self.get(token)
        info = self._parse_nik(nik_text)
        nik = getattr(info, "nik", None) or "".join(ch for ch in nik_text if ch.isdigit())
        session.identify(nik, info)
        # One registration per NIK per kiosk: this visit becomes an update of it. Revealed to
        # the person only after the face step (see ``existing``).
        session.existing = self._repo.latest_for_nik(keyed_hash(self._lookup_key, "nik", nik))
        return info

    def change_nik(self, token: str) -> None:
        """Go back from the face steps to correct the NIK."""
        self.get(token).change_nik()

    def existing(self, token: str) -> ExistingRegistration | None:
        """The registration this NIK already has on this kiosk, once the face step is passed."""
        session = self.get(token)
        if session.state in (State.IDENTIFY, State.CAPTURE, State.VERIFY, State.NEEDS_AGENT):
            return None
        found = session.existing
        return found if isinstance(found, ExistingRegistration) else None

    def family_card(self, token: str, kk: str) -> ExistingRegistration | None:
        """Look the answered No. KK up on this kiosk: a registration of the same family card by
        another visit (not this person's own, already an update) is returned and remembered, and
        this registration becomes its next version instead of a duplicate."""
        session = self.get(token)
        found = self._repo.latest_for_kk(keyed_hash(self._lookup_key, "kk", kk))
        own = session.existing if isinstance(session.existing, ExistingRegistration) else None
        if found is not None and own is not None and found.registration_id == own.registration_id:
            found = None
        session.existing_family = found
        return found

    def known_family(self, token: str) -> ExistingRegistration | None:
        """The registration of this session's family card found by :meth:`family_card`."""
        found = self.get(token).existing_family
        return found if isinstance(found, ExistingRegistration) else None

    def touch(self, token: str) -> None:
        """The person touched the screen."""
        self.get(token).touch()

    def listening(self, token: str, seconds: float) -> None:
        """A prompt of ``seconds`` started playing on the person's screen."""
        self.get(token).listening(seconds)

    def warning_shown(self, token: str) -> None:
        """The page showed and spoke the "are you still there?" warning."""
        self.get(token).warning_shown()

    def heard(self, token: str, which: str) -> None:
        """The person listens to the consent ``summary`` or the ``full`` text."""
        self.get(token).heard(which)

    def delivery(self, token: str) -> str | None:
        """Outbox state (pending | sent | acked | dead) of the record this session committed."""
        session = self.get(token)
        record_id = session.record_id
        return self._repo.delivery(record_id) if record_id else None

    def check_face(self, token: str) -> FaceCheckResult:
        """One capture-and-verify attempt for the session's NIK."""
        session = self.get(token)
        if session.state is State.NEEDS_AGENT:
            session.retry_capture()
        nik = session.data.nik
        if nik is None:
            raise FlowError("no NIK recorded for this session")
        result = self._verifier.check(nik)
        if result.outcome is Outcome.REJECTED:
            log.warning("spoof suspected on a capture attempt (liveness=%s)", result.liveness_band)
        if result.template is None and result.coaching is not None:
            return result  # no usable face: stay in CAPTURE, coach the person
        session.captured(result.capture, result.template)
        evidence = {
            k: v
            for k, v in (("match", result.match_band), ("liveness", result.liveness_band))
            if v is not None
        }
        session.verified(result.outcome, result.reference_source, evidence)
        return result

    def household(self, token: str, answers: dict[str, Any]) -> None:
        """Store the validated questionnaire answers."""
        self.get(token).household_done(answers)

    def _in_household(self, token: str) -> RegistrationSession:
        session = self.get(token)
        if session.state is not State.HOUSEHOLD:
            raise FlowError("members are added only while the questionnaire is open")
        return session

    def member_draft(self, token: str) -> dict[str, Any] | None:
        """The member being entered (between their two screens), or None."""
        draft = self._in_household(token).data.member_draft
        return dict(draft) if draft is not None else None

    def set_member_draft(self, token: str, draft: dict[str, Any] | None) -> None:
        """Keep the member being entered (``index`` None: a new member), or drop it."""
        self._in_household(token).data.member_draft = dict(draft) if draft is not None else None

    def save_member(self, token: str, question_id: str, index: int | None, member: dict) -> None:
        """Put a checked member (kiosk.core.members) into the list: new, or replacing ``index``."""
        answers = self._in_household(token).data.answers
        people = list(answers.get(question_id) or [])
        if index is not None and 0 <= index < len(people):
            people[index] = dict(member)
        else:
            people.append(dict(member))
        answers[question_id] = people
        self.set_member_draft(token, None)

    def remove_member(self, token: str, question_id: str, index: int) -> None:
        """Take the member at ``index`` off the list."""
        answers = self._in_household(token).data.answers
        people = list(answers.get(question_id) or [])
        if 0 <= index < len(people):
            del people[index]
        answers[question_id] = people

    def edit(self, token: str) -> None:
        """From consent or review, back to the questionnaire (consent already given stays)."""
        self.get(token).edit()

    def consent(self, token: str, given: bool) -> None:
        """Record the person's consent decision (refusal wipes the session)."""
        session = self.get(token)
        session.consent(given, self._form.consent_version)
        if session.state is State.IDLE:
            self._sessions.pop(token, None)

    def submit(self, token: str) -> str:
        """Seal and commit the registration with its outbox row; return the receipt number.

        The receipt is returned only after the SQLite commit: the kiosk never says
        "registered" for a record it could lose.
        """
        session = self.get(token)
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
            version = self._repo.next_version(registration_id)
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
                "review_required": outcome is Outcome.VOUCHED,
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
        payload = self._sealer.seal("registration", record_id, record)
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
            kind="registration",
            payload=payload,
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
