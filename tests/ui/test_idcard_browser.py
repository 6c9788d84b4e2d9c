"""The e-KTP step in headless Chromium through the real composed kiosk (kiosk.app.build_kiosk):
a demo resident the village list has no photo of shows the card to the (replay) camera, the
card's face becomes the reference of the real face check, and the outcome is "recorded"
(pending: a card never verifies on its own). Also: no card in view is coached; skipping works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from browser import Checker, served_kiosk, start_registration, type_on_keypad

from kiosk.config import KioskConfig
from tests.fixtures.idcard import card_frame

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def composed(
    cfg: KioskConfig, shared_dir: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Checker]]:
    test = request.node.originalname.removeprefix("test_")
    with served_kiosk(chromium, cfg, f"idcard-{test}-") as (kiosk, c):
        yield kiosk, c


def _to_the_card_screen(kiosk: Any, c: Checker) -> Any:
    """A demo resident without a village photo types their NIK: the e-KTP screen comes."""
    person = next(p for p in kiosk.demo.people if p.enrolled is None)
    page = c.page
    start_registration(page, c)
    type_on_keypad(page, person.nik)
    page.click("#nik-form button[type=submit]")
    page.wait_for_url("**/idcard")
    return person


def _show(kiosk: Any, image: Any, folder: Path) -> None:
    """Hold ``image`` (RGB) up to the replay camera."""
    path = folder / "held.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    kiosk.camera.play([path])


def test_the_card_photo_is_the_reference_and_the_outcome_is_recorded(
    composed: tuple[Any, Checker], tmp_path: Path
) -> None:
    kiosk, c = composed
    page = c.page
    person = _to_the_card_screen(kiosk, c)
    c.screen("idcard")
    assert "e-KTP" in page.inner_text("h1")
    _show(kiosk, card_frame(kiosk.pipeline, person.replay[0]), tmp_path)
    page.wait_for_function(
        "() => document.getElementById('preview').naturalWidth > 64"
    )  # the person sees the camera picture, with the card in it
    c.screen("idcard-card-in-view")
    page.click(".capture-form button[type=submit]")
    page.wait_for_url("**/face")
    c.screen("face-after-card")
    page.click(".capture-form button[type=submit]")  # the demo hook now shows the person
    page.wait_for_url("**/result")
    c.screen("result")
    assert page.inner_text(".message h1") == "Wajah Anda sudah direkam"  # pending, not verified
    assert not kiosk.verifier.id_card_needed(person.nik)  # the card is this NIK's reference
    kiosk.registration.end_all("test over")
    assert kiosk.verifier.id_card_needed(person.nik)  # the card left with the session


def test_no_card_is_coached_and_the_person_may_go_on_without_it(
    composed: tuple[Any, Checker], tmp_path: Path
) -> None:
    kiosk, c = composed
    page = c.page
    _to_the_card_screen(kiosk, c)
    _show(kiosk, np.full((480, 640, 3), 90, np.uint8), tmp_path)  # no card in view
    page.click(".capture-form button[type=submit]")
    page.wait_for_selector(".coaching.error")
    assert "e-KTP" in page.inner_text("#coaching")
    c.screen("idcard-no-card")
    page.click("button[formaction$='/idcard/skip']")
    page.wait_for_url("**/face")
    c.screen("face-without-card")
