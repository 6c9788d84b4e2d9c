"""Issue 17 item 2 for villagers, in headless Chromium at 800x480, in Indonesian: from the menu,
after the status check's NIK + receipt code, a villager proposes a household in need (typed on
the on-screen keyboard, with a spoken note from the package's fake microphone) and reports a
listed household found by dusun, RT and the first letters of its head's name (the list itself is
never shown); both are sealed under the verified NIK, and a flood from one NIK is refused aloud.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import KioskRun, page_fits, type_on_keypad
from community_doubles import attach_community
from objection_kit import with_objections
from test_visit_browser import PENDING_NIK, jpeg, register_through_the_service

from kiosk.audio.tone import ToneMicrophone
from kiosk.config import KioskConfig
from kiosk.core.session import Outcome

pytestmark = [pytest.mark.browser, pytest.mark.slow]


RUN_PREFIX = "villager"  # the conftest's ``run``: a served kit with agent mode, one page
RUN_TIMEOUT_MS = 20_000


@pytest.fixture
def receipt(run: KioskRun, cfg: KioskConfig, tmp_path: Path) -> str:
    """The village's published community list, the status check and objections (with the fake
    microphone) on ``run``'s kit, and the receipt code of a pending registration there."""
    community = attach_community(run.kit, run.agents, cfg.device.village_code)
    mic = ToneMicrophone(3.0)
    with_objections(run.kit, cfg, tmp_path, jpeg, run.agents.svc, microphone=mic)
    community.publish()
    return register_through_the_service(run.kit, PENDING_NIK, Outcome.PENDING)


def fits(page: Any) -> None:
    """The screen fits 800x480, its bottom buttons are whole, every button is >= 48 px."""
    page_fits(page)
    for box in page.locator("main .btn:visible").all():
        r = box.bounding_box()
        assert r is not None and r["height"] >= 48, r


def spoken(page: Any) -> None:
    assert page.locator("audio#prompt-audio").count() == 1


def seen(r: KioskRun, name: str) -> None:
    """The screen as the villager meets it: shot as ``name``, its prompt spoken, fitting."""
    r.c.screen(name)
    spoken(r.page)
    fits(r.page)


def identify(r: KioskRun, receipt: str) -> None:
    """Menu -> "Tell the office about a household" -> NIK -> receipt code -> the choice."""
    page = r.page
    page.goto(r.c.base + "/menu")
    r.c.screen("menu")
    fits(page)
    page.click("#community-start")
    page.wait_for_url("**/status/nik")
    type_on_keypad(page, PENDING_NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/status/code")
    type_on_keypad(page, receipt.replace("-", ""))
    page.click("#code-form button[type=submit]")
    page.wait_for_url("**/community")
    seen(r, "choice")


def osk_type(page: Any, field: str, text: str) -> None:
    page.click(field)
    assert page.locator(".osk-float").is_visible()
    for ch in text:
        page.click(f".osk-float [data-osk='{ch}']")


def fill_proposal(page: Any, name: str, dusun: str, rt: str, reason: str) -> None:
    """Type the name and RT on the on-screen keyboard, choose the dusun and one reason."""
    osk_type(page, "#name", name)
    page.click(".osk-float [data-osk=done]")
    assert page.input_value("#name") == name
    page.select_option("#dusun", dusun)
    osk_type(page, "#rt", rt)
    page.click(".osk-float [data-osk=done]")
    page.locator("label.option", has=page.locator(f"input[value={reason}]")).click()


def test_a_villager_proposes_a_household_with_a_spoken_note(run: KioskRun, receipt: str) -> None:
    r, page = run, run.page
    identify(r, receipt)
    page.click("#community-propose")
    page.wait_for_url("**/community/propose")
    seen(r, "propose")
    assert page.locator("#reporter_nik").count() == 0  # the NIK is the verified one
    assert page.locator("input[name=roster_household]").count() == 0  # no roster: not an agent
    fill_proposal(page, "mbah karto", "Sumberejo", "3", "bedridden")
    page.click("#voice-start")
    page.wait_for_selector("#voice-stop")
    assert page.locator("audio#prompt-audio").count() == 0  # the open microphone hears no prompt
    assert page.input_value("#name") == "mbah karto"  # the form is kept around the recording
    r.c.screen("propose-recording")
    page.click("#voice-stop")
    page.wait_for_selector("#voice-kept")
    assert "3 detik" in page.inner_text("#voice-kept")
    r.c.screen("propose-voice")
    page.click("#propose-submit")
    page.wait_for_url("**/community/done**")
    seen(r, "done")
    record = r.agents.sealer.sealed[-1]
    assert record["kind"] == "proposal" and record["household"]["name"] == "mbah karto"
    assert record["reporter"] == {"nik": PENDING_NIK, "agent_id": None}
    assert record["voice_note"]["seconds"] == 3.0 and record["reasons"] == ["bedridden"]
    assert r.agents.svc.audit.entries()[-1].kind == "proposal"  # audited, no agent


def test_a_villager_reports_a_household_found_by_dusun_rt_and_letters(
    run: KioskRun, receipt: str
) -> None:
    r, page = run, run.page
    identify(r, receipt)
    page.click("#community-report")
    page.wait_for_url("**/community/find")
    seen(r, "find")
    assert "Penerima" not in page.inner_text("main")  # the list itself is not shown
    page.locator("label.option", has_text="Sumberejo").click()
    osk_type(page, "#rt", "2")
    osk_type(page, "#letters", "ba")
    page.click(".osk-float [data-osk=done]")
    page.click("#find-submit")
    page.wait_for_selector("#form-error")
    assert "3 huruf" in page.inner_text("#form-error")  # at least three letters, said aloud
    spoken(page)
    osk_type(page, "#letters", "p")
    page.click(".osk-float [data-osk=done]")
    page.click("#find-submit")
    page.wait_for_selector("#matches")
    r.c.screen("matches")
    names = page.inner_text("#matches")
    assert "Bapak Penerima 01" in names and "Bapak Penerima 13" in names
    assert page.locator("#matches li").count() == 2  # only Sumberejo RT 2
    # a household the villager did not find cannot be opened by guessing its ref
    page.goto(r.c.base + "/community/report/H0002")
    page.wait_for_url("**/community/find")
    page.goto(r.c.base + "/community/report/H0013")
    seen(r, "report")
    assert page.locator("#reporter_nik").count() == 0
    page.locator("label.option", has=page.locator("input[value=moved]")).click()
    page.click("#report-submit")
    page.wait_for_url("**/community/done**")
    record = r.agents.sealer.sealed[-1]
    assert record["kind"] == "recipient_report" and record["household_ref"] == "H0013"
    assert record["reporter"] == {"nik": PENDING_NIK, "agent_id": None}


def test_a_proposal_flood_from_one_nik_is_refused_aloud(run: KioskRun, receipt: str) -> None:
    r, page = run, run.page
    identify(r, receipt)
    for n in range(4):
        page.goto(r.c.base + "/community/propose")
        fill_proposal(page, f"warga {'abcd'[n]}", "Krajan", "1", "disaster")
        page.click("#propose-submit")
        if n < 3:
            page.wait_for_url("**/community/done**")
    page.wait_for_selector("#form-error")
    assert "banyak laporan" in page.inner_text("#form-error")
    spoken(page)
    r.c.screen("flood")
    assert len([s for s in r.agents.sealer.sealed if s.get("kind") == "proposal"]) == 3
