"""The villager's registration session as a pure state machine.

States follow the screens: idle -> identify -> capture -> verify -> household -> consent ->
review -> submitted. Time comes from an injected clock; :class:`Inactivity` holds the time-out
rule for every kind of session (registration and status check): listening to a prompt counts
as activity for the length of the clip, the "are you still there?" warning comes only after
the person was idle, and the session is wiped only once the page has reported that the warning
was shown and spoken, plus the grace period. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.clock import Clock
from kiosk.errors import FlowError, SessionExpired


class State(enum.StrEnum):
    """Where the person is in the registration."""

    IDLE = "idle"
    IDENTIFY = "identify"
    CAPTURE = "capture"
    VERIFY = "verify"
    NEEDS_AGENT = "needs_agent"
    HOUSEHOLD = "household"
    CONSENT = "consent"
    REVIEW = "review"
    SUBMITTED = "submitted"


class Outcome(enum.StrEnum):
    """What the face step concluded (from the decision policy)."""

    VERIFIED = "verified"  # matched a trusted reference now
    PENDING = "pending"  # captured with liveness; the portal verifies later
    VOUCHED = "vouched"  # an agent vouched after failed checks
    RETRY = "retry"  # mismatch or poor capture: try again if the budget allows
    REJECTED = "rejected"  # spoof suspected: not accepted as this attempt


class IdCardStep(enum.StrEnum):
    """How the e-KTP step ended (asked only when the village set has no photo of the NIK)."""

    READ = "read"  # the card's photo is the reference of the face check
    NOT_BROUGHT = "not_brought"  # no card with them: face recorded, the office reviews


TRANSITIONS: dict[State, frozenset[State]] = {
    State.IDLE: frozenset({State.IDENTIFY}),
    State.IDENTIFY: frozenset({State.CAPTURE}),
    State.CAPTURE: frozenset({State.VERIFY, State.IDENTIFY}),
    State.VERIFY: frozenset({State.HOUSEHOLD, State.CAPTURE, State.NEEDS_AGENT, State.IDENTIFY}),
    State.NEEDS_AGENT: frozenset({State.HOUSEHOLD, State.CAPTURE, State.IDENTIFY}),
    State.HOUSEHOLD: frozenset({State.CONSENT, State.REVIEW}),
    State.CONSENT: frozenset({State.REVIEW, State.HOUSEHOLD}),
    State.REVIEW: frozenset({State.SUBMITTED, State.HOUSEHOLD}),
    State.SUBMITTED: frozenset(),
}
"""Allowed moves; any state may also end (abandon/finish) back to IDLE. Back to IDENTIFY
from the face steps corrects the NIK; HOUSEHOLD -> REVIEW is an edit after consent was given."""

RESULT_FOR_OUTCOME: dict[Outcome, str] = {
    Outcome.VERIFIED: "matched",
    Outcome.PENDING: "recorded",
    Outcome.VOUCHED: "matched",
    Outcome.RETRY: "retry",
    Outcome.REJECTED: "rejected",
}
"""Face outcome of the last attempt -> the result screen's variant (``agent`` while waiting)."""

CONSENT_HEARD: frozenset[str] = frozenset({"summary", "full"})
"""What the person listened to before consenting: the spoken summary or the full text."""


@dataclass(frozen=True)
class Timeouts:
    """Inactivity limits, seconds."""

    warning_s: float = 60.0
    grace_s: float = 30.0
    agent_wait_s: float = 600.0  # waiting for an agent to walk over takes longer


class Inactivity:
    """The one time-out rule: idle time starts after the person's last touch *and* after the
    last prompt they started listening to has finished playing.

    After ``warning_s`` of idleness the session is ``warned``; the page then says "are you
    still there?" (after any prompt still playing) and reports it with :meth:`warning_shown`.
    The session ends ``grace_s`` after that report. A page that never reports (the browser is
    gone, nobody can hear anything) ends the session after ``warning + 2 * grace`` so personal
    data is not kept for ever.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = clock.monotonic()
        self._busy_until = self._last
        self.warned = False
        self._shown_at: float | None = None

    def touch(self) -> None:
        """The person did something: idle time restarts and any warning is withdrawn."""
        self._last = self._clock.monotonic()
        self.warned = False
        self._shown_at = None

    def listening(self, seconds: float) -> None:
        """A prompt of ``seconds`` started playing: the person is busy until it ends."""
        self.touch()
        self._busy_until = max(self._busy_until, self._last + max(0.0, min(seconds, 900.0)))

    def warning_shown(self) -> None:
        """The page showed and spoke the "are you still there?" warning."""
        if self.warned and self._shown_at is None:
            self._shown_at = self._clock.monotonic()

    @property
    def said(self) -> bool:
        """True once the page reported the warning shown and spoken (the grace period runs)."""
        return self._shown_at is not None

    def idle(self) -> float:
        """Seconds since the person last touched or a prompt ended."""
        return max(0.0, self._clock.monotonic() - max(self._last, self._busy_until))

    def expired(self, warning_s: float, grace_s: float) -> bool:
        """Apply the rule; True when the session must end now."""
        idle = self.idle()
        if idle >= warning_s:
            self.warned = True
        if self._shown_at is not None:
            return self._clock.monotonic() - self._shown_at >= grace_s
        return idle >= warning_s + 2 * grace_s

    def seconds_left(self, warning_s: float, grace_s: float) -> float:
        """Seconds until the session ends if nothing happens: the grace period counts only
        from the moment the warning was said."""
        if self._shown_at is not None:
            return max(0.0, grace_s - (self._clock.monotonic() - self._shown_at))
        busy = max(0.0, self._busy_until - self._clock.monotonic())  # the prompt still playing
        return max(grace_s, busy + warning_s + grace_s - self.idle())


@dataclass
class PersonalData:
    """Everything personal the session holds; wiped as a whole."""

    nik: str | None = None
    nik_info: Any = None
    capture: Any = None  # best frame / analysis: memory only, never persisted raw
    template: bytes | None = None  # live face template (float32 bytes)
    reference_source: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)  # match / liveness bands, never scores
    answers: dict[str, Any] = field(default_factory=dict)
    consent_version: str | None = None
    consent_heard: str = "summary"  # what was listened to: summary | full
    typed_nik: str | None = None  # the NIK being corrected, to edit rather than retype
    member_draft: dict[str, Any] | None = None  # a KK member between their two screens


class RegistrationSession:
    """One person's pass through the kiosk."""

    def __init__(
        self, clock: Clock, timeouts: Timeouts, retry_budget: int = 3, key: str = ""
    ) -> None:
        if retry_budget < 1:
            raise ValueError("retry_budget must be at least 1")
        self.key = key  # idempotency key: a retried submit finds the row it committed
        self._clock = clock
        self._timeouts = timeouts
        self.retry_budget = retry_budget
        self.state = State.IDLE
        self.data = PersonalData()
        self.attempts = 0
        self.outcome: Outcome | None = None
        self.receipt_no: str | None = None
        self.record_id: str | None = None  # the committed version's record id
        self.assisted_by: str | None = None
        self.vouch_id: str | None = None  # links the registration to the agent's vouch record
        self.existing: Any = None  # the NIK's registration on this kiosk: this visit updates it
        self.existing_family: Any = None  # the KK's registration by someone else: updated too
        self.family_check: str | None = None  # where the No. KK was looked up: portal | kiosk
        self.last_attempt: Outcome | None = None  # the last face attempt's outcome, until retried
        self.back_to_review = False  # one answer is being changed from the review screen
        self.id_card: IdCardStep | None = None  # the e-KTP step, when it was asked for
        self.ended_reason: str | None = None
        self.inactivity = Inactivity(clock)

    # --- moves ---------------------------------------------------------------------------
    def _go(self, target: State) -> None:
        if target not in TRANSITIONS[self.state]:
            raise FlowError(f"cannot go from {self.state.value} to {target.value}")
        self.state = target
        self.touch()

    def start(self) -> None:
        """Leave the attract screen and ask who the person is."""
        self._check_alive()
        self._require(State.IDLE)
        self._go(State.IDENTIFY)

    def identify(self, nik: str, nik_info: Any = None) -> None:
        """Record the (already validated) NIK and move on to the face capture."""
        self._check_alive()
        self._require(State.IDENTIFY)
        self.data.nik = nik
        self.data.nik_info = nik_info
        self._go(State.CAPTURE)

    def captured(self, capture: Any, template: bytes | None) -> None:
        """A usable capture (best frame and its template) was taken; verification follows."""
        self._check_alive()
        self._require(State.CAPTURE)
        self.attempts += 1
        self.data.capture = capture
        self.data.template = template
        self._go(State.VERIFY)

    def verified(
        self,
        outcome: Outcome,
        reference_source: str | None = None,
        evidence: dict[str, str] | None = None,
    ) -> State:
        """Apply the decision for this attempt; returns the state the flow moves to.

        ``evidence`` holds the strength of the decision as bands (e.g. ``match``: HIGH,
        ``liveness``: live); it is recorded with the registration as its provenance.
        """
        self._check_alive()
        self._require(State.VERIFY)
        self.last_attempt = outcome
        if outcome in (Outcome.VERIFIED, Outcome.PENDING):
            self.outcome = outcome
            self.data.reference_source = reference_source
            self.data.evidence = dict(evidence or {})
            self._go(State.HOUSEHOLD)
        elif self.attempts >= self.retry_budget:
            # The best capture stays in memory, flagged; an agent can vouch for the person.
            self._go(State.NEEDS_AGENT)
        else:
            self._go(State.CAPTURE)
        return self.state

    def change_nik(self) -> None:
        """From the face steps, go back and correct the NIK (a typo is not a face problem)."""
        self._check_alive()
        self._require(State.CAPTURE, State.VERIFY, State.NEEDS_AGENT)
        self.data = PersonalData(typed_nik=self.data.nik)
        self.attempts = 0
        # everything learnt from the old NIK goes: the face result, the e-KTP step, the
        # registrations found for it (this kiosk's and the portal's answer on the family card)
        self.outcome = self.last_attempt = self.id_card = None
        self.existing = self.existing_family = self.family_check = None
        self._go(State.IDENTIFY)

    def id_card_done(self, step: IdCardStep) -> None:
        """The e-KTP step before the first face attempt ended: the card was read, or the person
        did not bring it (the registration then goes to the office's review)."""
        self._check_alive()
        self._require(State.CAPTURE)
        self.id_card = step
        self.touch()

    @property
    def review_required(self) -> bool:
        """True when the office must review the registration before deciding: an agent vouched
        for the person, or they had no e-KTP to stand in for the missing village photo."""
        return self.outcome is Outcome.VOUCHED or self.id_card is IdCardStep.NOT_BROUGHT

    def retry_capture(self) -> None:
        """From a failed attempt's result or the agent offer, try the camera once more (no
        lock-out for residents)."""
        self._check_alive()
        self._require(State.CAPTURE, State.NEEDS_AGENT)
        self.last_attempt = None
        if self.state is State.NEEDS_AGENT:
            self._go(State.CAPTURE)
        else:
            self.touch()

    def result_variant(self) -> str | None:
        """Which face result screen the person is on, or None when there is none to show:
        ``agent`` while waiting for one, else the last attempt's variant (only a success once
        the questionnaire is reached)."""
        if self.state is State.NEEDS_AGENT:
            return "agent"
        if self.last_attempt is None or self.state not in (State.CAPTURE, State.HOUSEHOLD):
            return None
        variant = RESULT_FOR_OUTCOME[self.last_attempt]
        if self.state is State.HOUSEHOLD and variant not in ("matched", "recorded"):
            return None
        return variant

    def vouched(self, agent_id: str) -> None:
        """An agent vouched for the person after failed checks."""
        self._check_alive()
        self._require(State.NEEDS_AGENT)
        self.outcome = Outcome.VOUCHED
        self.assisted_by = agent_id
        self._go(State.HOUSEHOLD)

    def answer(self, values: dict[str, Any]) -> bool:
        """Keep one questionnaire screen's validated answers; True when they change one answer
        from the review screen (the flag is used up: the next screen goes on as usual)."""
        self._check_alive()
        self._require(State.HOUSEHOLD)
        self.data.answers.update(values)
        self.touch()
        one, self.back_to_review = self.back_to_review, False
        return one

    def household_done(self, answers: dict[str, Any]) -> None:
        """All questionnaire pages are answered and validated.

        Consent once given in this session stays: the consent text covers every kind of data
        the questionnaire asks, so changing an answer does not need it again. Only a session
        without consent goes to the consent screen.
        """
        self._check_alive()
        self._require(State.HOUSEHOLD)
        self.data.answers = dict(answers)
        self._go(State.REVIEW if self.data.consent_version else State.CONSENT)

    def heard(self, which: str) -> None:
        """The person chose to listen to the consent ``summary`` or the ``full`` text."""
        if which not in CONSENT_HEARD:
            raise FlowError(f"unknown consent text {which!r}")
        self._check_alive()
        self._require(State.CONSENT)
        if which == "full" or self.data.consent_heard != "full":
            self.data.consent_heard = which  # once the full text was heard, that stays true
        self.touch()

    def consent(self, given: bool, version: str) -> None:
        """Record consent; refusing ends the session and wipes its data."""
        self._check_alive()
        self._require(State.CONSENT)
        if not given:
            self.end("consent_refused")
            return
        self.data.consent_version = version
        self._go(State.REVIEW)

    def edit(self, one_answer: bool = False) -> None:
        """From consent or review, go back to the questionnaire (consent already given stays);
        ``one_answer``: only one answer changes, then straight back to review."""
        self._check_alive()
        self._require(State.CONSENT, State.REVIEW)
        self.back_to_review = one_answer
        self._go(State.HOUSEHOLD)

    def submitted(self, receipt_no: str) -> None:
        """The registration and its outbox row are committed; show the receipt."""
        self._check_alive()
        self._require(State.REVIEW)
        self.receipt_no = receipt_no
        self._go(State.SUBMITTED)
        self._wipe()  # the record is sealed and stored; nothing personal stays in memory

    def end(self, reason: str) -> None:
        """Finish or abandon: wipe all personal data and return to idle."""
        self._wipe()
        self.state = State.IDLE
        self.ended_reason = reason

    # --- time ----------------------------------------------------------------------------
    def touch(self) -> None:
        """The person did something: reset the inactivity timer and any warning."""
        self.inactivity.touch()

    def listening(self, seconds: float) -> None:
        """A prompt of ``seconds`` started playing: listening is activity."""
        self.inactivity.listening(seconds)

    def warning_shown(self) -> None:
        """The page showed and spoke "are you still there?"; the grace period starts."""
        self.inactivity.warning_shown()

    @property
    def warned(self) -> bool:
        """True while the "are you still there?" warning is due."""
        return self.inactivity.warned

    def tick(self) -> State:
        """Advance time-based rules: warn after inactivity, then abandon."""
        if self.state in (State.IDLE,):
            return self.state
        if self.inactivity.expired(self._warning_s(), self._timeouts.grace_s):
            self.end("timeout")
        return self.state

    def _warning_s(self) -> float:
        """Idle seconds before the warning, in the current state."""
        t = self._timeouts
        if self.state is State.NEEDS_AGENT:
            return max(t.agent_wait_s, t.warning_s)
        return t.warning_s

    @property
    def seconds_left(self) -> float:
        """Seconds until the session is abandoned if nothing happens."""
        return self.inactivity.seconds_left(self._warning_s(), self._timeouts.grace_s)

    # --- helpers -------------------------------------------------------------------------
    def _require(self, *states: State) -> None:
        if self.state not in states:
            allowed = ", ".join(s.value for s in states)
            raise FlowError(f"this step needs state {allowed}, the session is {self.state.value}")

    def _check_alive(self) -> None:
        self.tick()
        if self.state is State.IDLE and self.ended_reason is not None:
            raise SessionExpired(f"the session ended ({self.ended_reason}); start again")

    def _wipe(self) -> None:
        self.data = PersonalData()
