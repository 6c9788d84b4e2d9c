"""The registration session state machine: every transition, time-outs, wiping."""

from __future__ import annotations

import pytest

from kiosk.core.clock import FakeClock
from kiosk.core.session import (
    TRANSITIONS,
    Outcome,
    RegistrationSession,
    State,
    Timeouts,
)
from kiosk.errors import FlowError, SessionExpired

NIK = "3510014507900001"


def new(clock: FakeClock, budget: int = 3) -> RegistrationSession:
    return RegistrationSession(clock, Timeouts(warning_s=60, grace_s=30), retry_budget=budget)


def to_state(s: RegistrationSession, target: State) -> RegistrationSession:
    """Drive a fresh session along the happy path until ``target``."""
    steps = [
        (State.IDENTIFY, lambda: s.start()),
        (State.CAPTURE, lambda: s.identify(NIK)),
        (State.VERIFY, lambda: s.captured("frame", b"\x00" * 512)),
        (State.HOUSEHOLD, lambda: s.verified(Outcome.VERIFIED, "village_set")),
        (State.CONSENT, lambda: s.household_done({"members": 4})),
        (State.REVIEW, lambda: s.consent(True, "consent-v1")),
        (State.SUBMITTED, lambda: s.submitted("3510-AAAA-BBBB")),
    ]
    for state, step in steps:
        if s.state is target:
            break
        step()
        assert s.state is state
    return s


def test_happy_path_reaches_submitted_and_wipes_personal_data(clock: FakeClock) -> None:
    s = to_state(new(clock), State.SUBMITTED)
    assert s.receipt_no == "3510-AAAA-BBBB"
    assert s.outcome is Outcome.VERIFIED
    assert s.data.nik is None and s.data.template is None and s.data.answers == {}


ACTIONS = {
    "start": ({State.IDLE}, lambda s: s.start()),
    "identify": ({State.IDENTIFY}, lambda s: s.identify(NIK)),
    "captured": ({State.CAPTURE}, lambda s: s.captured("f", None)),
    "verified": ({State.VERIFY}, lambda s: s.verified(Outcome.VERIFIED)),
    "retry_capture": ({State.NEEDS_AGENT, State.CAPTURE}, lambda s: s.retry_capture()),
    "change_nik": (
        {State.CAPTURE, State.VERIFY, State.NEEDS_AGENT},
        lambda s: s.change_nik(),
    ),
    "vouched": ({State.NEEDS_AGENT}, lambda s: s.vouched("agent-1")),
    "household_done": ({State.HOUSEHOLD}, lambda s: s.household_done({})),
    "consent": ({State.CONSENT}, lambda s: s.consent(True, "v1")),
    "edit": ({State.CONSENT, State.REVIEW}, lambda s: s.edit()),
    "submitted": ({State.REVIEW}, lambda s: s.submitted("R")),
}


def session_in(clock: FakeClock, state: State) -> RegistrationSession:
    if state is State.NEEDS_AGENT:
        s = to_state(new(clock, budget=1), State.VERIFY)
        s.verified(Outcome.RETRY)
        return s
    return to_state(new(clock), state)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_is_legal_only_in_its_states(
    clock: FakeClock, state: State, action: str
) -> None:
    s = session_in(clock, state)
    assert s.state is state
    allowed, call = ACTIONS[action]
    if state in allowed:
        call(s)
        assert s.state is not state or action in ("edit", "retry_capture")
    else:
        with pytest.raises(FlowError):
            call(s)
        assert s.state is state  # a refused action changes nothing


def test_transition_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(State)


def test_mismatch_returns_to_capture_until_budget_then_needs_agent(clock: FakeClock) -> None:
    s = to_state(new(clock, budget=3), State.CAPTURE)
    for attempt in (1, 2):
        s.captured("f", b"t")
        assert s.verified(Outcome.RETRY) is State.CAPTURE
        assert s.attempts == attempt
    s.captured("best", b"t")
    assert s.verified(Outcome.REJECTED) is State.NEEDS_AGENT
    assert s.data.capture == "best"  # the best capture is kept for the agent


def test_needs_agent_can_retry_or_be_vouched(clock: FakeClock) -> None:
    s = to_state(new(clock, budget=1), State.CAPTURE)
    s.captured("f", b"t")
    s.verified(Outcome.RETRY)
    s.retry_capture()
    assert s.state is State.CAPTURE  # no lock-out for residents
    s.captured("f", b"t")
    s.verified(Outcome.RETRY)
    s.vouched("agent-7")
    assert s.state is State.HOUSEHOLD
    assert s.outcome is Outcome.VOUCHED and s.assisted_by == "agent-7"


def test_pending_outcome_continues_to_household(clock: FakeClock) -> None:
    s = to_state(new(clock), State.VERIFY)
    s.verified(Outcome.PENDING, "none")
    assert s.state is State.HOUSEHOLD and s.outcome is Outcome.PENDING


def test_edit_from_consent_and_review(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CONSENT)
    s.edit()
    assert s.state is State.HOUSEHOLD
    s.household_done({"a": 1})
    s.consent(True, "v1")
    s.edit()
    assert s.state is State.HOUSEHOLD


def test_refusing_consent_ends_and_wipes(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CONSENT)
    s.consent(False, "v1")
    assert s.state is State.IDLE and s.ended_reason == "consent_refused"
    assert s.data.nik is None and s.data.answers == {}
    with pytest.raises(SessionExpired):
        s.household_done({})


def test_inactivity_warns_then_abandons_and_wipes(clock: FakeClock) -> None:
    s = to_state(new(clock), State.HOUSEHOLD)
    clock.advance(59)
    assert s.tick() is State.HOUSEHOLD and not s.warned
    clock.advance(1)
    assert s.tick() is State.HOUSEHOLD and s.warned
    s.warning_shown()  # the page showed and spoke "are you still there?"
    assert s.seconds_left == pytest.approx(30)
    clock.advance(29)
    assert s.tick() is State.HOUSEHOLD
    clock.advance(1)
    assert s.tick() is State.IDLE
    assert s.ended_reason == "timeout"
    assert s.data.nik is None and s.data.template is None


def test_touch_gives_more_time(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CAPTURE)
    clock.advance(70)
    s.tick()
    assert s.warned
    s.touch()
    assert not s.warned
    clock.advance(80)
    assert s.tick() is State.CAPTURE


def test_action_after_timeout_raises_session_expired(clock: FakeClock) -> None:
    s = to_state(new(clock), State.IDENTIFY)
    clock.advance(151)  # nobody's page reported the warning: warning + 2 x grace
    with pytest.raises(SessionExpired):
        s.identify(NIK)
    assert s.data.nik is None


def test_retry_budget_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        RegistrationSession(clock, Timeouts(), retry_budget=0)


def test_waiting_for_an_agent_gets_more_time(clock: FakeClock) -> None:
    s = RegistrationSession(clock, Timeouts(warning_s=60, grace_s=30, agent_wait_s=600), 1)
    to_state(s, State.VERIFY)
    s.verified(Outcome.RETRY)
    assert s.state is State.NEEDS_AGENT
    clock.advance(120)
    assert s.tick() is State.NEEDS_AGENT and not s.warned
    clock.advance(480)
    assert s.tick() is State.NEEDS_AGENT and s.warned  # "are you still there?" at 600 s
    s.warning_shown()
    clock.advance(30)
    assert s.tick() is State.IDLE and s.data.nik is None


def test_never_wiped_before_the_warning_was_shown(clock: FakeClock) -> None:
    s = to_state(new(clock), State.HOUSEHOLD)
    clock.advance(60 + 30 + 29)  # warned, but no page reported showing the warning yet
    assert s.tick() is State.HOUSEHOLD and s.warned
    s.warning_shown()
    clock.advance(29)
    assert s.tick() is State.HOUSEHOLD
    s.touch()  # a touch anywhere on the warning counts as "yes, still here"
    assert not s.warned
    clock.advance(59)
    assert s.tick() is State.HOUSEHOLD and not s.warned


def test_a_page_that_never_answers_still_ends_the_session(clock: FakeClock) -> None:
    s = to_state(new(clock), State.HOUSEHOLD)
    clock.advance(60 + 2 * 30)
    assert s.tick() is State.IDLE and s.data.nik is None


def test_listening_to_a_long_prompt_counts_as_activity(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CONSENT)
    s.listening(181.0)  # the full consent text
    clock.advance(181 + 59)
    assert s.tick() is State.CONSENT and not s.warned
    clock.advance(1)
    assert s.tick() is State.CONSENT and s.warned


def test_warning_shown_before_the_warning_is_due_does_nothing(clock: FakeClock) -> None:
    s = to_state(new(clock), State.HOUSEHOLD)
    s.warning_shown()
    clock.advance(60 + 30 + 1)
    assert s.tick() is State.HOUSEHOLD and s.warned


def test_change_nik_after_a_mismatch_forgets_the_claim(clock: FakeClock) -> None:
    s = to_state(new(clock), State.VERIFY)
    s.verified(Outcome.RETRY)
    s.change_nik()
    assert s.state is State.IDENTIFY and s.data.nik is None and s.attempts == 0
    s.identify("3510014501900001")
    assert s.state is State.CAPTURE


def test_editing_after_consent_skips_the_consent_screen(clock: FakeClock) -> None:
    s = to_state(new(clock), State.REVIEW)
    s.edit()
    s.household_done({"x": 1})
    assert s.state is State.REVIEW and s.data.consent_version


def test_consent_heard_records_the_full_text_once_heard(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CONSENT)
    assert s.data.consent_heard == "summary"
    s.heard("full")
    s.heard("summary")
    assert s.data.consent_heard == "full"
    with pytest.raises(FlowError):
        s.heard("bogus")


def test_seconds_left_includes_the_prompt_still_playing(clock: FakeClock) -> None:
    s = to_state(new(clock), State.CONSENT)
    s.listening(181.0)
    assert s.seconds_left == pytest.approx(181 + 90)


def test_the_result_screen_follows_the_last_attempt_until_retried(clock: FakeClock) -> None:
    s = to_state(new(clock, budget=2), State.CAPTURE)
    assert s.result_variant() is None, "no attempt yet: no result screen"
    s.captured("f", b"t")
    s.verified(Outcome.REJECTED)
    assert s.result_variant() == "rejected"
    s.retry_capture()  # "try again" from the result screen
    assert s.state is State.CAPTURE and s.result_variant() is None
    s.captured("f", b"t")
    s.verified(Outcome.RETRY)
    assert s.state is State.NEEDS_AGENT and s.result_variant() == "agent"
    s.vouched("agent-7")
    assert s.result_variant() is None, "a vouch shows no face result: on to the questions"


@pytest.mark.parametrize(
    ("outcome", "variant"), [(Outcome.VERIFIED, "matched"), (Outcome.PENDING, "recorded")]
)
def test_a_passed_face_step_shows_its_result(
    clock: FakeClock, outcome: Outcome, variant: str
) -> None:
    s = to_state(new(clock), State.VERIFY)
    s.verified(outcome, "none")
    assert s.state is State.HOUSEHOLD and s.result_variant() == variant


def test_one_answer_changed_from_review_is_flagged_once(clock: FakeClock) -> None:
    s = to_state(new(clock), State.REVIEW)
    s.edit(one_answer=True)
    assert s.answer({"members": 5}) is True
    assert s.answer({"members": 6}) is False, "the flag is used up by the first screen"
    assert s.data.answers["members"] == 6
    s.household_done(dict(s.data.answers))
    assert s.state is State.REVIEW, "consent once given stays"
