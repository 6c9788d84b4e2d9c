"""Agent mode in headless Chromium (800x480 and 1280x720): login with the PIN keypad (right,
wrong, throttled across a restart), an assisted registration, a vouched registration after
three failed face checks, and roster editing. Every screen is screenshotted and axe-checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import DW_PIN, PIN, attach_agents
from browser import (
    SIZES,
    KioskRun,
    Server,
    agent_login,
    answer_and_send,
    fail_face_three_times,
    kiosk_run,
    nik_and_face,
    start_registration,
    type_on_keypad,
)
from ui_doubles import face
from ui_kit import GOOD_NIK, build_kit

from kiosk.config import KioskConfig
from kiosk.core.session import Outcome

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Run(KioskRun):
    """One browser page on a served kiosk with agent mode, which can restart."""

    cfg: KioskConfig

    def restart(self) -> None:
        """Stop the kiosk and start it again over the same data directory."""
        old = self.c.base + "/"
        assert all(u.startswith(old) for u in self.c.requests), self.c.requests
        self.c.requests.clear()
        self.server.close()
        self.agents.svc.audit._conn.close()
        self.kit = build_kit(self.cfg, self.tmp)
        self.agents = attach_agents(self.kit, self.tmp, enrol=False)
        self.server = Server(self.kit.app)
        self.c.base = self.server.base


@pytest.fixture(params=list(SIZES))
def run(
    request: pytest.FixtureRequest, cfg: KioskConfig, tmp_path: Path, chromium: Any
) -> Iterator[Run]:
    prefix = f"agent-{request.node.originalname.removeprefix('test_')}-"
    size = request.param
    with kiosk_run(
        chromium, cfg, tmp_path, prefix, size=size, timeout_ms=10_000, speech=False
    ) as k:
        r = Run(**vars(k), cfg=cfg)
        try:
            yield r
        finally:
            r.server.close()  # the one a restart started


def pin_login(r: Run, name: str, pin: str) -> None:
    """On the login screen: choose the agent by name, type the PIN on the keypad, Next."""
    page = r.page
    page.locator("label.option", has_text=name).click()
    type_on_keypad(page, pin)
    page.click("#login-form button[type=submit]")


def full_login(r: Run, name: str = "Bu Rina", pin: str = PIN) -> None:
    agent_login(r.page, r.c, name, pin)


def finish_registration(r: Run) -> None:
    answer_and_send(r.page, r.c)
    r.c.screen("receipt")


def test_agent_login_wrong_pin_throttle_across_restart(run: Run) -> None:
    r, page = run, run.page
    page.goto(r.c.base + "/agent/login")
    r.c.screen("login")
    pin_login(r, "Bu Rina", "000001")
    page.wait_for_selector("#login-error")
    assert page.get_attribute("#pin", "aria-invalid") == "true"
    r.c.screen("login-wrong-pin")
    for _ in range(4):
        pin_login(r, "Bu Rina", "000001")
    assert "30" in page.inner_text("#login-error")
    r.c.screen("login-throttled")
    assert r.agents.matcher.calls == 0

    r.restart()
    page.goto(r.c.base + "/agent/login")
    pin_login(r, "Bu Rina", PIN)  # the right PIN, but still within the delay after the restart
    page.wait_for_selector("#login-error")
    assert "30" in page.inner_text("#login-error")
    assert r.agents.matcher.calls == 0

    r.kit.clock.advance(31)
    pin_login(r, "Bu Rina", PIN)
    page.wait_for_url("**/agent/face")
    r.c.screen("face")
    page.click("#face-check")
    page.wait_for_url("**/agent/home")
    assert "Bu Rina" in page.inner_text("main")
    r.c.screen("home")
    kinds = [e.kind for e in r.agents.svc.audit.entries()]
    assert kinds.count("agent_login_failed") == 5 and "agent_login_throttled" in kinds
    assert kinds[-2:] == ["agent_login_ok", "agent_duty_on"]
    assert r.agents.svc.verify_audit().ok


def test_agent_face_mismatch_returns_to_login(run: Run) -> None:
    r, page = run, run.page
    r.agents.matcher.band = "LOW"
    page.goto(r.c.base + "/agent/login")
    pin_login(r, "Bu Rina", PIN)
    page.wait_for_url("**/agent/face")
    page.click("#face-check")
    page.wait_for_selector("#login-error")
    r.c.screen("face-mismatch")
    assert not r.agents.svc.active()


SMALL = pytest.mark.parametrize("run", ["800x480"], indirect=True)
"""Long flows (the whole questionnaire) run at the kiosk's own screen size only."""


@SMALL
def test_assisted_registration(run: Run) -> None:
    r, page = run, run.page
    full_login(r)
    page.click("#assist")
    page.wait_for_url("**/identify")
    nik_and_face(page, GOOD_NIK)
    finish_registration(r)
    [record] = r.kit.sealer.sealed
    assert record["verification"]["assisted_by"] == "AG-PKH-01"
    assert record["verification"]["outcome"] == "verified"


@SMALL
def test_vouched_registration_after_three_failed_face_checks(run: Run) -> None:
    r, page = run, run.page
    r.agents.svc.accounts.set_on_duty("AG-DW-01", True)
    fail_face_three_times(page, r.c, r.kit.verifier, GOOD_NIK)
    r.c.screen("needs-agent")
    page.click(".message form[action='/help'] button")
    page.wait_for_selector("#agent-login")
    assert "Bu Sri" in page.inner_text("#on-duty-title + p")
    r.c.screen("help-on-duty")
    page.click("#agent-login")
    page.wait_for_url("**/agent/login")
    pin_login(r, "Bu Rina", PIN)
    page.wait_for_url("**/agent/face")
    page.click("#face-check")
    page.wait_for_url("**/agent/home")
    r.c.screen("home-resident-waiting")
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    r.c.screen("vouch")
    page.locator("label.option").filter(has=page.locator("input[value=elderly]")).click()
    page.click("#vouch-submit")
    page.wait_for_url("**/household*")
    [vouch] = r.agents.outbox("vouch")
    assert vouch["reason"] == "elderly" and vouch["agent_match_band"] == "HIGH"
    assert vouch["face_attempts"] == 3 and vouch["review_required"] is True
    finish_registration(r)
    [record] = r.kit.sealer.sealed
    assert record["verification"]["outcome"] == "vouched"
    assert record["verification"]["assisted_by"] == "AG-PKH-01"
    assert [e.kind for e in r.agents.svc.audit.entries()].count("vouch") == 1


def test_vouch_refused_when_the_agents_face_fails(run: Run) -> None:
    r, page = run, run.page
    full_login(r)
    token = r.kit.registration.start()
    r.kit.registration.end(token, "replaced")
    start_registration(page, r.c)
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    r.kit.verifier.script(face(Outcome.RETRY), face(Outcome.RETRY), face(Outcome.RETRY))
    for attempt in range(3):
        page.click(".capture-form button[type=submit]")
        page.wait_for_url("**/result")
        if attempt < 2:
            page.click("form[action='/result/retry'] button")
    page.goto(r.c.base + "/agent/vouch")
    r.agents.matcher.band = "NONE"
    page.locator("label.option").filter(has=page.locator("input[value=injury]")).click()
    page.click("#vouch-submit")
    page.wait_for_selector("#vouch-error")
    r.c.screen("vouch-refused")
    assert r.agents.outbox("vouch") == []


def test_roster_edit(run: Run) -> None:
    r, page = run, run.page
    full_login(r, "Bu Sri", DW_PIN)
    page.click("#roster-link")
    page.wait_for_url("**/agent/roster")
    r.c.screen("roster-empty")
    page.click("#add-household")
    page.wait_for_url("**/agent/roster/new")
    r.c.screen("household-new")
    page.fill("#kk", "3510011203150001")
    page.fill("#address", "RT 01 RW 02")
    page.locator("label.option", has_text="Padi").first.click()
    page.fill("#m0-name", "Siti Aminah")
    page.select_option("#m0-relation", "head")
    page.select_option("#m0-sex", "F")
    page.fill("#m0-birth_year", "1958")
    page.select_option("#m0-work", "farmer")
    page.select_option("#s0-code", "harvest_failure")
    page.fill("#s0-month", "2026-08")
    page.click("#save-household")
    page.wait_for_url("**/agent/roster")
    assert "Siti Aminah" in page.inner_text("main")
    r.c.screen("roster-one")
    page.locator("a", has_text="Ubah").first.click()
    page.wait_for_url("**/agent/roster/*")
    page.fill("#kk", "12")
    page.click("#save-household")
    page.wait_for_selector("#roster-error")
    r.c.screen("household-error")
    page.fill("#kk", "3510011203150001")
    page.locator("label.option", has_text="Jagung").first.click()
    page.click("#save-household")
    page.wait_for_url("**/agent/roster")
    records = r.agents.outbox("household")
    assert len(records) == 2 and records[-1]["household"]["crops"] == ["corn", "rice"]
    page.locator("a", has_text="Riwayat").first.click()
    page.wait_for_url("**/history")
    r.c.screen("history")
