"""The villager flow through the real composed kiosk (kiosk.app.build_kiosk): replay camera,
real face models, demo village references, real sealer; Chromium at 800x480."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Checker, answer_questionnaire, served_kiosk, to_identify, type_on_keypad

from kiosk.config import KioskConfig
from kiosk.core.ids import parse_receipt

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def composed(cfg: KioskConfig, shared_dir: Path, chromium: Any) -> Iterator[tuple[Any, Checker]]:
    with served_kiosk(chromium, cfg, "composed-") as (kiosk, checker):
        yield kiosk, checker


def test_real_kiosk_registers_a_demo_resident(composed: tuple[Any, Checker]) -> None:
    kiosk, c = composed
    person = next(p for p in kiosk.demo.people if p.expect == "verified")
    page = c.page
    to_identify(page, c)
    type_on_keypad(page, person.nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/face")
    page.wait_for_function(
        "() => document.getElementById('preview').naturalWidth > 64"
    )  # a live frame from the replay camera, served from memory
    c.screen("capture-live")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/result")
    c.screen("result")
    assert page.locator("a[href='/household']").count() == 1, page.inner_text("main")
    page.click("a[href='/household']")
    answer_questionnaire(page, c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    c.screen("receipt")
    assert kiosk.registration.active
    number = page.inner_text(".receipt-no")
    assert parse_receipt(number) == number, "12 digits in groups of 4 with a check digit"
