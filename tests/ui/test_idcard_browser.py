"""The e-KTP step in headless Chromium through the real composed kiosk (kiosk.app.build_kiosk):
a demo resident the village list has no photo of shows the card to the (replay) camera, the
card's face becomes the reference of the real face check, and the outcome is "recorded"
(pending: a card never verifies on its own). Also: no card in view is coached; a person who did
not bring their card goes on with one large button, is told (and hears) that the village office
checks the registration, and the sealed record says so (``id_card``, ``review_required``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from browser import Checker, answer_and_send, served_kiosk, start_registration, type_on_keypad

from kiosk import languages
from kiosk.config import KioskConfig
from kiosk.crypto.envelope import open_envelope
from kiosk.crypto.keys import load_or_create_device_key, load_portal_private_key
from kiosk.crypto.trust import DEMO_PORTAL_DIR
from kiosk.speech.espeak import speech_key
from kiosk.store.db import DB_NAME, connect
from tests.fixtures.idcard import card_frame

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def composed(
    cfg: KioskConfig, shared_dir: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Checker]]:
    test = request.node.originalname.removeprefix("test_")
    with served_kiosk(chromium, cfg, f"idcard-{test}-", speech=True) as (kiosk, c):
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


ID = languages.translator("id")


def _sealed_record(cfg: KioskConfig) -> dict[str, Any]:
    """The one registration in the outbox, opened as the (demo) portal opens it."""
    data = cfg.paths.data_dir
    [(payload,)] = connect(data / DB_NAME).execute("SELECT payload FROM outbox").fetchall()
    opened = open_envelope(
        payload,
        portal_private_key=load_portal_private_key(data / DEMO_PORTAL_DIR / "portal_x25519.pem"),
        device_public_key=load_or_create_device_key(data).public_key(),
    )
    return opened.record


def test_without_the_card_one_large_button_leads_on_and_the_office_reviews(
    composed: tuple[Any, Checker], cfg: KioskConfig
) -> None:
    kiosk, c = composed
    person = _to_the_card_screen(kiosk, c)
    no_card = c.page.locator("button[formaction$='/idcard/skip']")
    c.screen("idcard-spoken")
    assert no_card.inner_text() == "Tidak membawa KTP"
    box = no_card.bounding_box()
    assert box is not None and box["height"] >= 56 and box["width"] >= 300  # as big as "Periksa"
    assert box["y"] + box["height"] <= 480, "the way on is below the 800x480 screen"
    said = (
        ID(
            "There is no photo of you in the village list yet. Hold your e-KTP in front of the "
            "camera, photo side towards it, then touch Check the card."
        )
        + " "
        + ID(
            "Did not bring your KTP? Touch I did not bring my KTP: your face is recorded and the "
            "village office checks your registration."
        )
    )
    assert "Sentuh Tidak membawa KTP" in said
    page = c.page
    src = page.get_attribute("#prompt-audio", "src") or ""
    assert src.endswith(f"/speech/{speech_key('id', said)}.wav"), "the way on is not spoken"
    no_card.click()
    page.wait_for_url("**/face")
    page.click(".capture-form button[type=submit]")  # the demo hook shows the person
    page.wait_for_url("**/result")
    c.screen("result-without-card")
    assert page.inner_text(".message h1") == "Wajah Anda sudah direkam"
    assert "kantor desa akan memeriksa pendaftaran Anda" in page.inner_text(".message .lead")
    page.click("a[href='/household']")
    answer_and_send(page, c)
    c.screen("receipt-without-card")
    assert "Anda tidak menunjukkan e-KTP" in page.inner_text(".receipt .next")
    verification = _sealed_record(cfg)["verification"]
    assert verification["outcome"] == "pending" and verification["reference_source"] == "none"
    assert verification["id_card"] == "not_brought" and verification["review_required"] is True
    assert person.nik == _sealed_record(cfg)["nik"]
