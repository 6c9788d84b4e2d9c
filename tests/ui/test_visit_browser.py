"""The elderly villager's whole visit in headless Chromium at 800x480 (issue 15, visit core):
listening never costs the session, status for everyone by receipt code, corrections, one
registration per NIK with updates, and receipts that say what is true."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import (
    Checker,
    answer_screen,
    browse,
    grey_jpeg,
    nik_and_face,
    to_identify,
    type_on_keypad,
)
from ui_doubles import FakeLive, face
from ui_kit import GOOD_NIK, Kit, build_kit, register

from kiosk.config import KioskConfig
from kiosk.core.ids import parse_receipt
from kiosk.core.session import Outcome
from kiosk.speech.espeak import Speech

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PENDING_NIK = "3510016607780011"
"""The demo NIK with no reference on the kiosk: its face is recorded, verified later."""


jpeg = grey_jpeg


@pytest.fixture
def run(
    request: pytest.FixtureRequest, cfg: KioskConfig, tmp_path: Path, chromium: Any
) -> Iterator[tuple[Kit, Checker]]:
    kit = build_kit(
        cfg, tmp_path, live=FakeLive("ok", jpeg()), speech=Speech(tmp_path / "speech-cache")
    )
    test = request.node.originalname.removeprefix("test_")
    with browse(chromium, kit.app, f"visit-{test}-") as (_server, checker):
        yield kit, checker


def session_state(page: Any) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        "() => fetch('/api/session', {cache: 'no-store'}).then(r => r.json())"
    )
    return state


def wait_until(page: Any, test: Any, timeout_s: float = 25.0) -> dict[str, Any]:
    """Poll the session state (as the page sees it) until ``test`` holds."""
    for _ in range(int(timeout_s / 0.25)):
        state = session_state(page)
        if test(state):
            return state
        page.wait_for_timeout(250)
    raise AssertionError(f"the session never got there: {session_state(page)}")


def answer_quickly(page: Any) -> int:
    """Answer every questionnaire screen (no screenshots); the number of screens."""
    for n in range(1, 60):
        if "/consent" in page.url or "/review" in page.url:
            return n - 1
        answer_screen(page)  # every question of the screen (the counts share one)
        with page.expect_navigation():
            page.click("button[value=next]")
    raise AssertionError("the questionnaire did not end")


register_through_the_service = register


# --- 1. time-outs that fit the slowest reader -------------------------------------------------
def test_listening_to_the_whole_consent_keeps_the_session_and_its_answers(
    run: tuple[Kit, Checker],
) -> None:
    kit, c = run
    page = c.page
    to_identify(page, c)
    nik_and_face(page, GOOD_NIK)
    answer_quickly(page)
    page.wait_for_url("**/consent")
    c.screen("consent-summary")
    assert page.locator(".consent-summary li").count() >= 4
    page.click("#consent-full")
    page.wait_for_url("**/consent?text=full")
    c.screen("consent-full")
    # The full text starts playing; the page reports it and the server knows its length.
    wait_until(page, lambda j: j["seconds_left"] > 150)
    for _ in range(8):  # ~4 minutes of listening, in the server's (fake) time
        kit.clock.advance(25)
        state = session_state(page)
        assert state["active"] and not state["warned"], state
        assert page.locator("#timeout-dialog").is_hidden()
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    rows = page.locator(".review-row").count()
    assert rows >= 14, "every answer is still there"  # household_v2: 14 questions
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    assert kit.sealer.sealed[-1]["consent"]["heard"] == "full"


def test_are_you_still_there_is_spoken_and_a_touch_anywhere_is_yes(
    run: tuple[Kit, Checker],
) -> None:
    kit, c = run
    page = c.page
    to_identify(page, c)
    page.wait_for_timeout(1500)  # the spoken prompt has started: it counts for its length
    kit.clock.advance(61)
    assert page.locator("#timeout-dialog").is_hidden(), "never warned while a prompt plays"
    kit.clock.advance(29)
    page.wait_for_selector("#timeout-dialog:not([hidden])")
    assert "Masih di sana?" in page.inner_text("#timeout-title")
    c.screen("still-there")
    # The page reports once the question has been said; only then does the grace period run.
    wait_until(page, lambda j: j["said"])
    page.mouse.click(30, 400)  # on the backdrop, not the button
    page.wait_for_selector("#timeout-dialog", state="hidden")
    assert session_state(page)["warned"] is False
    kit.clock.advance(61)
    page.wait_for_selector("#timeout-dialog:not([hidden])")
    wait_until(page, lambda j: j["said"])
    kit.clock.advance(31)
    page.wait_for_url("**/ended")
    c.screen("ended-timeout")
    assert not kit.registration.active


# --- 2. status for everyone -------------------------------------------------------------------
def test_a_pending_villager_checks_status_with_the_receipt_code(run: tuple[Kit, Checker]) -> None:
    kit, c = run
    page = c.page
    receipt = register_through_the_service(kit, PENDING_NIK, Outcome.PENDING)
    assert parse_receipt(receipt) == receipt and receipt.replace("-", "").isdigit()
    face_checks = len(kit.verifier.calls)
    page.goto(c.base + "/menu")
    page.click("form[action='/status'] button")
    page.wait_for_url("**/status/nik")
    type_on_keypad(page, PENDING_NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/status/code")
    c.screen("status-code")
    digits = receipt.replace("-", "")
    type_on_keypad(page, digits[:-1] + str((int(digits[-1]) + 1) % 10))  # one digit misread
    page.click("#code-form button[type=submit]")
    assert page.locator("#code-error").is_visible()
    c.screen("status-code-wrong")
    type_on_keypad(page, digits)
    assert page.input_value("#code") == receipt.replace("-", " ")
    page.click("#code-form button[type=submit]")
    page.wait_for_url("**/status/result")
    c.screen("status-pending")
    main = page.inner_text("main")
    assert receipt in main
    assert "Tersimpan di kios ini" in main and "Kantor belum menjawab" in main
    assert len(kit.verifier.calls) == face_checks, "no face check was needed"
    # The office answers (the portal's status message): the screen says it is the office's.
    record_id = kit.sealer.sealed[-1]["record_id"]
    kit.repo.set_status(record_id, "received", None, kit.clock.now())
    page.reload()
    assert "Ini jawaban dari kantor" in page.inner_text("main")


# --- 3. corrections -------------------------------------------------------------------------
def test_nik_is_sixteen_digits_grouped_and_can_be_corrected_after_a_mismatch(
    run: tuple[Kit, Checker],
) -> None:
    kit, c = run
    page = c.page
    to_identify(page, c)
    type_on_keypad(page, "35100145019000019999")  # 20 touches
    assert page.input_value("#nik") == "3510 0145 0190 0001"
    assert "16 dari 16" in page.inner_text("#nik-count")
    c.screen("identify-grouped")
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    kit.verifier.script(face(Outcome.RETRY))
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    c.screen("result-mismatch")
    page.click("form[action='/nik/change'] button")
    page.wait_for_url("**/identify")
    assert page.input_value("#nik") == "3510 0145 0190 0001", "the NIK to correct is kept"
    c.screen("identify-correct")
    page.click(".keypad [data-key=back]")
    page.click(".keypad [data-key='2']")
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    kit.verifier.script(face(Outcome.RETRY))
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    assert kit.verifier.calls[-1] == "3510014501900002", "the face is checked for the new NIK"


# --- 4 + 5. one registration per NIK, honest receipts ---------------------------------------
def test_second_visit_shows_the_receipt_and_updates_it_with_an_honest_receipt(
    run: tuple[Kit, Checker],
) -> None:
    kit, c = run
    page = c.page
    first = register_through_the_service(kit, GOOD_NIK, Outcome.VERIFIED)
    to_identify(page, c)
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    c.screen("already-registered")
    assert first in page.inner_text("main")
    page.click("a[href='/household']")
    answer_quickly(page)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    assert page.inner_text(".receipt-no") == first, "an update keeps the receipt code"
    assert kit.sealer.sealed[-1]["registration"]["version"] == 2
    assert kit.repo.count() == 2
    delivery = page.locator(".delivery")
    assert delivery.get_attribute("data-delivery") == "saved"
    assert "menunggu dikirim" not in page.inner_text("main")
    c.screen("receipt-saved")
    # The portal acks (the relay marks the outbox row): the receipt says so within seconds.
    record_id = kit.sealer.sealed[-1]["record_id"]
    kit.repo._conn.execute("UPDATE outbox SET state = 'acked' WHERE record_id = ?", (record_id,))
    page.wait_for_selector(".delivery[data-delivery='sent']")
    c.screen("receipt-sent")
    # Left alone, the receipt ends kindly.
    kit.clock.advance(60 + 2 * 30 + 60)  # the spoken receipt counts for its length too
    page.wait_for_url("**/ended")
    c.screen("receipt-left-alone")
    main = page.inner_text("main")
    assert "Pendaftaran Anda tersimpan" in main and "dihapus" not in main
    assert "erased.svg" not in page.content()
