"""Every agent-mode record kind goes into the outbox through its one writer, waking the relay."""

from __future__ import annotations

from tests.agents.conftest import AGENT_PIN, Kit
from tests.agents.test_agent_service import failed_three_times, finish, household


def kinds(kit: Kit) -> list[str]:
    return [r[0] for r in kit.conn.execute("SELECT kind FROM outbox ORDER BY seq")]


def test_each_record_kind_wakes_the_relay_once_committed(kit: Kit) -> None:
    token = kit.svc.login("AG-PKH-01", AGENT_PIN)
    reg_token = failed_three_times(kit)
    kit.svc.vouch(token, reg_token, "elderly")
    assert (kinds(kit), len(kit.wakes)) == (["vouch"], 1)
    finish(kit, reg_token)
    assert (kinds(kit), len(kit.wakes)) == (["vouch", "registration"], 2)
    kit.svc.logout(token)
    cadre = kit.svc.login("AG-DW-01", "246801")
    kit.svc.save_household(cadre, household())
    assert kinds(kit)[-1] == "household" and len(kit.wakes) == 3
    assert kit.svc.flush_audit() is not None
    assert kinds(kit)[-1] == "audit" and len(kit.wakes) == 4
