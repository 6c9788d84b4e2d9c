"""Agent login: PIN then face, the persistent throttle, time-outs and presence."""

from __future__ import annotations

import pytest

from kiosk.errors import AgentAuthError, LoginThrottled
from tests.agents.conftest import AGENT_PIN, TEMPLATE, Kit


def test_login_with_pin_and_face(kit: Kit) -> None:
    token = kit.svc.login("ag-pkh-01", AGENT_PIN)
    session = kit.svc.current(token)
    assert session.agent.agent_id == "AG-PKH-01"
    assert kit.matcher.seen == [TEMPLATE]  # the agent's own template was matched
    assert [a.agent_id for a in kit.svc.on_duty()] == ["AG-PKH-01"]
    assert kit.audit_kinds() == ["agent_login_ok", "agent_duty_on"]


def test_wrong_pin_is_refused_without_a_face_check(kit: Kit) -> None:
    with pytest.raises(AgentAuthError, match="wrong agent id or PIN"):
        kit.svc.login_pin("AG-PKH-01", "000001")
    assert kit.matcher.seen == []
    assert kit.audit_kinds() == ["agent_login_failed"]
    assert kit.svc.audit.entries()[0].actor == "AG-PKH-01"


def test_face_step_needs_the_pin_step_first_and_expires(kit: Kit) -> None:
    with pytest.raises(AgentAuthError):
        kit.svc.login_face()
    kit.svc.login_pin("AG-PKH-01", AGENT_PIN)
    kit.clock.advance(kit.svc.timeouts.face_step_s + 1)
    assert kit.svc.pending_face() is None
    with pytest.raises(AgentAuthError):
        kit.svc.login_face()


@pytest.mark.parametrize("band", ["LOW", "NONE", None])
def test_face_that_does_not_match_is_a_failure(kit: Kit, band: str | None) -> None:
    kit.matcher.default = band
    kit.svc.login_pin("AG-PKH-01", AGENT_PIN)
    with pytest.raises(AgentAuthError, match="face did not match"):
        kit.svc.login_face()
    assert kit.svc.auth.wait_s("AG-PKH-01") == 0.0
    assert kit.svc.auth._throttle.get("AG-PKH-01").failures == 1


def test_five_failures_then_a_doubling_delay_that_survives_a_restart(kit: Kit) -> None:
    for _ in range(4):
        with pytest.raises(AgentAuthError) as err:
            kit.svc.login_pin("AG-PKH-01", "999990")
        assert not isinstance(err.value, LoginThrottled)
    with pytest.raises(LoginThrottled):
        kit.svc.login_pin("AG-PKH-01", "999990")  # the 5th failure starts the delay

    kit = kit.restart()
    with pytest.raises(LoginThrottled) as err2:
        kit.svc.login_pin("AG-PKH-01", AGENT_PIN)  # even the right PIN must wait
    assert err2.value.wait_s == pytest.approx(30.0)
    assert kit.audit_kinds()[-1] == "agent_login_throttled"

    kit.clock.advance(30.0)
    with pytest.raises(LoginThrottled) as err3:
        kit.svc.login_pin("AG-PKH-01", "999990")  # 6th failure: 60 s
    assert err3.value.wait_s == pytest.approx(60.0)
    kit.clock.advance(60.0)
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    assert kit.svc.current(token).agent.agent_id == "AG-PKH-01"
    assert kit.svc.auth.wait_s("AG-PKH-01") == 0.0
    assert kit.conn.execute("SELECT COUNT(*) FROM agent_throttle").fetchone()[0] == 0


def test_unknown_ids_share_one_throttle_and_are_not_recorded(kit: Kit) -> None:
    for typed in ["AG-NOPE", "3510012345670001", "x", "AG-OTHER", "AG-MORE"]:
        with pytest.raises(AgentAuthError):
            kit.svc.login_pin(typed, AGENT_PIN)
    with pytest.raises(LoginThrottled):
        kit.svc.login_pin("AG-ANY", AGENT_PIN)
    assert all(e.actor is None for e in kit.svc.audit.entries())
    assert kit.svc.auth.wait_s("AG-PKH-01") == 0.0  # real agents are not locked by strangers


def test_idle_and_maximum_timeouts_end_the_session(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.clock.advance(kit.svc.timeouts.idle_s - 1)
    kit.svc.current(token)  # touching keeps it alive
    kit.clock.advance(kit.svc.timeouts.idle_s)
    with pytest.raises(AgentAuthError):
        kit.svc.current(token)
    assert kit.audit_kinds()[-1] == "agent_timeout"

    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    for _ in range(int(kit.svc.timeouts.max_s // 100)):
        kit.clock.advance(100)
        kit.svc.current(token) if kit.svc.active() else None
    assert not kit.svc.active()


def test_presence_lost_ends_the_session(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.presence_lost()
    assert not kit.svc.active()
    with pytest.raises(AgentAuthError):
        kit.svc.current(token)
    assert kit.audit_kinds()[-1] == "agent_presence_lost"


def test_logout_and_a_stale_token(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.logout("not-the-token")
    assert kit.svc.active()
    kit.svc.logout(token)
    assert not kit.svc.active()
    assert kit.audit_kinds()[-1] == "agent_logout"


def test_deactivated_agent_is_logged_out(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.accounts.deactivate("AG-PKH-01")
    with pytest.raises(AgentAuthError):
        kit.svc.current(token)


def test_agent_without_template_cannot_log_in(kit: Kit) -> None:
    kit.svc.accounts.enrol("AG-OP-01", "operator", "Pak Joko", "246813", None)
    kit.svc.login_pin("AG-OP-01", "246813")
    with pytest.raises(AgentAuthError, match="no face template"):
        kit.svc.login_face()


def test_duty_toggle(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.set_duty(token, False)
    assert kit.svc.on_duty() == []
    assert kit.audit_kinds()[-1] == "agent_duty_off"


def test_housekeeping_times_out_and_batches_the_audit(kit: Kit) -> None:
    from kiosk.agents import AgentTimeouts

    kit.svc.timeouts = AgentTimeouts(idle_s=60.0, audit_flush_s=300.0)
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    kit.svc.housekeeping()
    assert len(kit.outbox("audit")) == 1  # first call flushes what is there
    kit.clock.advance(kit.svc.timeouts.idle_s)
    kit.svc.housekeeping()  # times out; the next batch is not due yet
    assert not kit.svc.active() and len(kit.outbox("audit")) == 1
    kit.clock.advance(kit.svc.timeouts.audit_flush_s)
    kit.svc.housekeeping()
    [_, second] = kit.outbox("audit")
    assert [e[2] for e in second["entries"]] == ["agent_timeout"]
    del token
