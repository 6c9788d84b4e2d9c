"""Issue 17 (members, duplicate No. KK, Dasa Wisma upkeep) in headless Chromium at 800x480 in
Indonesian: the upkeep list, the duplicate family card warning and the member list with its
checks. Each screen is screenshotted and axe-checked like the other browser tests; spoken
prompts are read back from the kiosk's speech cache."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import DW_PIN, Agents, attach_agents
from browser import Checker, Server, axe_source
from test_ui_browser import type_on_keypad
from ui_kit import Kit, build_kit

from kiosk.config import KioskConfig
from ui.speech import Speech

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = 86400


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
        """Every element matching ``selector`` is wholly inside the 800x480 viewport."""
        return bool(
            self.page.evaluate(
                "s => Array.from(document.querySelectorAll(s)).every(e => {"
                " const r = e.getBoundingClientRect(); return r.top >= 0 && r.left >= 0"
                " && r.bottom <= window.innerHeight && r.right <= window.innerWidth"
                " && r.height >= 48; })",
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
    server = Server(kit.app)
    context = chromium.new_context(viewport={"width": 800, "height": 480}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    test = request.node.originalname.removeprefix("test_")
    checker = Checker(page, server.base, "800x480", axe_source(), prefix=f"i17-{test}-")
    checker.attach()
    try:
        yield Run(kit, agents, checker, speech)
        checker.assert_local()
    finally:
        context.close()
        server.close()


def dw_login(r: Run) -> None:
    page = r.page
    page.goto(r.c.base + "/agent/login")
    page.locator("label.option", has_text="Bu Sri").click()
    type_on_keypad(page, DW_PIN)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/agent/face")
    page.click("#face-check")
    page.wait_for_url("**/agent/home")


def _dw_household(kk: str, name: str, **kw: Any) -> dict[str, Any]:
    member = {"member_id": "m1", "name": name, "relation": "head", "sex": "F", "birth_year": 1960}
    return {"kk": kk, "address": "RT 01", "members": [member], "crops": ["rice"], **kw}


# --- Dasa Wisma upkeep ----------------------------------------------------------------------
def test_upkeep_list(run: Run) -> None:
    """Households not updated for 30 days first, the last change in words, unregistered ones."""
    r, page = run, run.page
    svc = r.agents.svc
    token = svc.login("AG-DW-01", DW_PIN)
    svc.save_household(token, _dw_household("3510011203150001", "Siti Aminah"))
    other = svc.save_household(token, _dw_household("3510011203150002", "Wati"))
    svc.logout(token)
    r.kit.clock.advance(20 * DAY)
    token = svc.login("AG-DW-01", DW_PIN)
    ill = _dw_household("3510011203150002", "Wati", crops=["corn", "rice"])
    ill["members"][0] |= {"illnesses": ["tuberculosis"], "work": "farmer"}
    svc.save_household(token, dict(ill, household_id=other.household_id))
    svc.logout(token)
    r.kit.clock.advance(15 * DAY)  # Siti: 35 days without an update, Wati: 15

    dw_login(r)
    page.click("#roster-link")
    page.wait_for_url("**/agent/roster")
    page.click("#upkeep-link")
    page.wait_for_url("**/agent/roster/upkeep")
    summary = page.inner_text("#upkeep-summary")
    assert "1 rumah tangga perlu dikunjungi" in summary and "30 hari" in summary
    assert "2 belum terdaftar" in summary
    assert summary.strip() in r.spoken(), "the summary is spoken"
    rows = page.locator(".upkeep-list > li")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Siti Aminah" in first and "35 hari" in first and "perlu dikunjungi" in first
    assert "Wati" in second and "perlu dikunjungi" not in second
    for words in ("Sakit", "+ TBC", "Tanaman", "+ Jagung", "Pekerjaan", "Petani"):
        assert words in second, (words, second)
    assert "belum terdaftar" in first and "belum terdaftar" in second
    assert r.fits(".actions-bottom a")
    r.c.screen("upkeep")
