"""The villager flow in headless Chromium at 800x480 and 1280x720: every screen screenshotted
(artifacts/screenshots/), checked with axe-core, weighed, and every request kept on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import (
    SIZES,
    Checker,
    answer_questionnaire,
    browse,
    grey_jpeg,
    start_registration,
    type_on_keypad,
)
from ui_doubles import FakeLive, face
from ui_kit import GOOD_NIK, Kit, build_kit, register

from kiosk.config import KioskConfig
from kiosk.core.forms import load_form
from kiosk.core.session import Outcome
from kiosk.speech.espeak import Speech

pytestmark = [pytest.mark.browser, pytest.mark.slow]


jpeg = grey_jpeg


@pytest.fixture(params=list(SIZES))
def run(
    request: pytest.FixtureRequest, cfg: KioskConfig, tmp_path: Path, chromium: Any
) -> Iterator[tuple[Kit, Checker]]:
    kit = build_kit(
        cfg,
        tmp_path,
        live=FakeLive("too_far", jpeg()),
        speech=Speech(tmp_path / "speech-cache"),
    )
    test = request.node.originalname.removeprefix("test_")
    with browse(chromium, kit.app, f"{test}-", size=request.param) as (_server, checker):
        yield kit, checker


def test_full_villager_flow(run: tuple[Kit, Checker]) -> None:
    kit, c = run
    page = c.page
    start_registration(page, c)
    c.screen("identify")
    type_on_keypad(page, "35100145019")
    page.click("#nik-form button[type=submit]")
    page.wait_for_selector("#nik-error", state="visible")  # the refusal the server rendered
    assert "11" in page.inner_text("#nik-error")
    c.screen("identify-bad-nik")
    type_on_keypad(page, GOOD_NIK)
    assert "16" in page.inner_text("#nik-count")
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.wait_for_function(
        "() => document.getElementById('coaching').textContent.includes('dekat')"
    )
    c.screen("capture")
    kit.verifier.script(face(coaching="no_face"))
    page.click(".capture-form button[type=submit]")
    page.wait_for_selector(".coaching.error")
    c.screen("capture-no-face")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    c.screen("result-matched")
    page.click("a[href='/household']")
    answer_questionnaire(page, c)
    c.screen("consent")
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    c.screen("review")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    receipt = kit.sealer.sealed[0]["receipt_no"]
    assert page.inner_text(".receipt-no") == receipt
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    assert page.evaluate("document.getElementById('prompt-audio').src").startswith(
        c.base + "/speech/"
    )
    c.screen("receipt")
    assert kit.repo.count() == 1
    page.click(".receipt button[type=submit]")
    page.wait_for_url(c.base + "/")


def test_face_mismatch_then_agent(run: tuple[Kit, Checker]) -> None:
    kit, c = run
    page = c.page
    start_registration(page, c)
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    kit.verifier.script(face(Outcome.RETRY), face(Outcome.REJECTED), face(Outcome.RETRY))
    for expected in ("result-mismatch", "result-rejected"):
        page.click(".capture-form button[type=submit]")
        page.wait_for_url("**/result")
        c.screen(expected)
        page.click("form[action='/result/retry'] button")
        page.wait_for_url("**/face")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    c.screen("result-needs-agent")
    page.click(".message form[action='/help'] button")
    c.screen("agent-called")
    assert kit.agent.calls == ["button"]
    page.click("a.btn-primary")
    page.wait_for_url("**/result")
    page.click("form[action='/result/retry'] button")  # no lock-out
    page.wait_for_url("**/face")


def test_timeout_warns_offers_time_then_wipes(run: tuple[Kit, Checker]) -> None:
    kit, c = run
    page = c.page
    start_registration(page, c)
    type_on_keypad(page, GOOD_NIK)
    kit.clock.advance(61 + 25)  # the spoken prompt (under 25 s) counts as activity too
    page.wait_for_selector("#timeout-dialog:not([hidden])")
    c.screen("timeout-warning")
    page.click("#more-time")
    page.wait_for_selector("#timeout-dialog", state="hidden")
    kit.clock.advance(61)
    page.wait_for_selector("#timeout-dialog:not([hidden])")
    for _ in range(100):  # the grace period runs once the page has said "Masih di sana?"
        said = page.evaluate("() => fetch('/api/session').then(r => r.json()).then(j => j.said)")
        if said:
            break
        page.wait_for_timeout(200)
    kit.clock.advance(31)
    page.wait_for_url("**/ended")
    c.screen("session-ended")
    assert not kit.registration.active


def test_status_check(run: tuple[Kit, Checker]) -> None:
    kit, c = run
    page = c.page
    # a registration exists, with the portal's answer
    receipt = register(kit, GOOD_NIK)
    record_id = kit.sealer.sealed[0]["record_id"]
    kit.repo.set_status(record_id, "not_eligible", "Penghasilan di atas batas", 1.0)
    assert load_form()
    page.goto(c.base + "/menu")
    page.click("form[action='/status'] button")
    c.screen("status-identify")
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/status/code")
    page.click("a.lost-code")  # the number is lost: the face check opens the record
    page.wait_for_url("**/status/face")
    c.screen("status-capture")
    kit.verifier.script(face(Outcome.RETRY))
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/status/result")
    assert receipt not in page.content()
    c.screen("status-not-shown")
    page.click(".message a[href='/status/face']")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/status/result")
    assert receipt in page.inner_text("main")
    assert "sanggah" in page.inner_text("main")
    c.screen("status-shown")
