"""An objection (sanggah) in headless Chromium at 800x480, in Indonesian: the status check of a
decided registration offers it, the reason is a picture, the note is typed on the on-screen
keyboard (an over-long note is refused and kept), the document photo is taken from the camera,
and the objection then shows in the status; after the window the status says why not. A spoken
note is recorded with the package's fake microphone, listened back, recorded again and sealed;
without a microphone the reason is spoken and the typed note still works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Checker, browse, check_status
from objection_kit import with_objections
from test_visit_browser import PENDING_NIK, jpeg, register_through_the_service
from ui_doubles import FakeLive
from ui_kit import Kit, build_kit

from kiosk.audio.tone import ToneMicrophone
from kiosk.config import KioskConfig
from kiosk.core.session import Outcome
from kiosk.speech.espeak import Speech
from kiosk.store.objections import ObjectionRepository

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = 86400.0


MIC = ToneMicrophone(4.0)


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[tuple[Kit, Checker, ObjectionRepository]]:
    kit = build_kit(
        cfg, tmp_path, live=FakeLive("ok", jpeg()), speech=Speech(tmp_path / "speech-cache")
    )
    mic = getattr(request, "param", None)
    objections = with_objections(kit, cfg, tmp_path, jpeg, microphone=mic)
    with browse(chromium, kit.app, "objection-") as (_server, checker):
        yield kit, checker, objections


def open_status(page: Any, c: Checker, receipt: str) -> None:
    check_status(page, c, PENDING_NIK, receipt)


def decided(kit: Kit, status: str, reason: str | None, days_ago: float = 0.0) -> str:
    receipt = register_through_the_service(kit, PENDING_NIK, Outcome.PENDING)
    record_id = kit.sealer.sealed[-1]["record_id"]
    kit.repo.set_status(record_id, status, reason, kit.clock.now() - days_ago * DAY)
    return receipt


def fits(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= 480, f"{selector} cut off: {box}"


def test_file_an_objection_and_see_it_in_the_status(
    run: tuple[Kit, Checker, ObjectionRepository],
) -> None:
    kit, c, objections = run
    page = c.page
    receipt = decided(kit, "not_eligible", "penghasilan di atas batas")
    open_status(page, c, receipt)
    c.screen("status-decided")
    main = page.inner_text("main")
    assert "Tidak layak" in main or "Tidak berhak" in main or "penghasilan di atas batas" in main
    assert "Anda dapat menyanggah sampai" in main
    assert "Kantor tidak dapat ditanya barusan" in main  # the source is said: this kiosk
    page.click(".objection-offer button")
    page.wait_for_url("**/objection/reason")
    c.screen("reason")
    assert page.locator(".btn-reason").count() == 6
    fits(page, ".btn-reason[data-reason=other]")
    fits(page, "form[action='/objection/cancel'] button")
    page.click(".btn-reason[data-reason=situation_changed]")
    page.wait_for_url("**/objection/note")
    c.screen("note")
    fits(page, "button[value=next]")
    # an over-long note is refused with the reason, and the text is kept for shortening
    page.fill("#note", "panjang " * 80)
    page.click("button[value=next]")
    assert page.locator("#note-error").is_visible()
    assert "terlalu panjang" in page.inner_text("#note-error")
    assert page.locator("audio#prompt-audio").count() == 1  # the refusal is spoken
    assert len(page.input_value("#note")) > 500
    c.screen("note-too-long")
    fits(page, "button[value=next]")
    page.fill("#note", "")
    for key in "suami sakit":
        page.click(f".osk [data-osk='{key}']")
    assert page.input_value("#note") == "suami sakit"
    page.click("button[value=next]")
    page.wait_for_url("**/objection/photo")
    c.screen("photo")
    page.click("button[value=take]")
    # the POST renders the photo screen again: wait for it (is_visible alone raced the answer)
    page.wait_for_selector("img[src$='/objection/photo.jpg']", state="visible")
    c.screen("photo-taken")
    page.click("button[value=next]")
    page.wait_for_url("**/objection/review")
    c.screen("review")
    review = page.inner_text("main")
    assert "Keadaan saya sudah berubah" in review and "suami sakit" in review
    assert "Dengan foto." in review
    fits(page, "form[action='/objection/send'] button")
    page.click("form[action='/objection/send'] button")
    page.wait_for_url("**/objection/done")
    c.screen("done")
    sealed = kit.sealer.sealed[-1]
    assert sealed["reason_code"] == "situation_changed" and sealed["note"] == "suami sakit"
    assert sealed["evidence"]["mime"] == "image/jpeg" and PENDING_NIK not in str(sealed)
    page.click("a[href$='/status/result']")
    page.wait_for_url("**/status/result")
    c.screen("status-with-objection")
    main = page.inner_text("main")
    assert "Sanggahan" in main and "Keadaan saya sudah berubah" in main
    assert "Tersimpan di kios ini, belum terkirim ke kantor" in main
    assert page.locator(".objection-offer").count() == 0  # one open objection at a time
    assert "Anda sudah mengajukan sanggahan" in main
    # the portal acknowledges it and later rejects it with a reason: the status shows both
    objection_id = sealed["objection_id"]
    kit.repo._conn.execute(  # what the ack rule does: the outbox row is acked
        "UPDATE outbox SET state = 'acked' WHERE record_id = ?", (objection_id,)
    )
    page.reload()
    assert "Sudah diterima kantor" in page.inner_text("main")
    objections.set_state(objection_id, "rejected", "bukti belum cukup", kit.clock.now())
    page.reload()
    main = page.inner_text("main")
    assert "Tidak diterima" in main and "bukti belum cukup" in main


def test_after_the_window_the_status_says_why_no_objection_can_be_filed(
    run: tuple[Kit, Checker, ObjectionRepository],
) -> None:
    kit, c, _objections = run
    page = c.page
    receipt = decided(kit, "not_eligible", "penghasilan di atas batas", days_ago=31)
    open_status(page, c, receipt)
    c.screen("window-closed")
    assert page.locator(".objection-offer").count() == 0
    assert "Masa sanggah untuk keputusan ini sudah berakhir" in page.inner_text("main")


def to_the_note(kit: Kit, c: Checker) -> None:
    receipt = decided(kit, "not_eligible", "penghasilan di atas batas")
    open_status(c.page, c, receipt)
    c.page.click(".objection-offer button")
    c.page.wait_for_url("**/objection/reason")
    c.page.click(".btn-reason[data-reason=situation_changed]")
    c.page.wait_for_url("**/objection/note")


def listen_plays(page: Any, button: str, seconds: float) -> None:
    """Touching the button plays the note from memory (the WAV decodes in Chromium)."""
    page.click(button)
    page.wait_for_function(
        "s => { const a = document.getElementById('voice-audio');"
        " return a && a.readyState >= 1 && Math.abs(a.duration - s) < 0.5; }",
        arg=seconds,
    )


@pytest.mark.parametrize("run", [MIC], indirect=True)
def test_a_spoken_note_is_recorded_listened_back_and_sealed(
    run: tuple[Kit, Checker, ObjectionRepository],
) -> None:
    kit, c, _objections = run
    page = c.page
    MIC.seconds, MIC.silent = 4.0, False
    to_the_note(kit, c)
    fits(page, "#note-speak")
    page.click("#note-speak")
    page.wait_for_url("**/objection/voice")
    c.screen("voice-start")
    assert page.locator("audio#prompt-audio").count() == 1  # the instructions are spoken
    fits(page, "#voice-start")
    fits(page, "#voice-next")
    page.click("#voice-start")
    page.wait_for_url("**/objection/voice")
    c.screen("voice-recording")
    assert page.locator("#voice-recording").is_visible()
    assert page.locator("audio#prompt-audio").count() == 0  # the open microphone hears no prompt
    assert int(page.get_attribute("#voice-stop", "data-autostop") or "0") == 60
    fits(page, "#voice-stop")
    page.click("#voice-stop")
    page.wait_for_url("**/objection/voice")
    c.screen("voice-kept")
    assert "4 detik" in page.inner_text("#voice-kept")
    for sel in ("#voice-listen", "#voice-again", "#voice-delete", "#voice-next", "#voice-type"):
        fits(page, sel)
        box = page.locator(sel).bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48, sel
    listen_plays(page, "#voice-listen", 4.0)
    # recorded again, silently this time: refused with a spoken reason, the first note is kept
    MIC.silent = True
    page.click("#voice-again")
    page.wait_for_url("**/objection/voice")
    page.click("#voice-stop")
    assert "Tidak ada suara" in page.inner_text("#voice-error")
    assert page.locator("audio#prompt-audio").count() == 1
    c.screen("voice-empty")
    assert page.locator("#voice-kept").is_visible()
    # an over-long note stops itself at the limit, is kept, and the person is told so
    MIC.silent, MIC.seconds = False, 90.0
    page.click("#voice-again")
    page.wait_for_url("**/objection/voice")
    page.click("#voice-stop")
    page.wait_for_selector("#voice-kept")
    assert "60 detik" in page.inner_text("#voice-kept")
    assert "batas terpanjang" in page.inner_text("#voice-limit")
    c.screen("voice-at-limit")
    MIC.seconds = 4.0  # recorded again, shorter
    page.click("#voice-again")
    page.wait_for_url("**/objection/voice")
    page.click("#voice-stop")
    page.wait_for_selector("#voice-kept")
    page.click("#voice-next")
    page.wait_for_url("**/objection/photo")
    page.click("button[value=skip]")
    page.wait_for_url("**/objection/review")
    c.screen("voice-review")
    assert "Catatan suara: 4 detik" in page.inner_text("main")
    listen_plays(page, "#review-listen", 4.0)
    page.click("form[action='/objection/send'] button")
    page.wait_for_url("**/objection/done")
    sealed = kit.sealer.sealed[-1]
    assert sealed["voice_note"]["mime"] == "audio/wav" and sealed["voice_note"]["seconds"] == 4.0
    assert sealed["note"] is None
    # sealed: the clear audio is gone from the kiosk
    assert page.request.get(c.base + "/objection/voice.wav").status == 404


@pytest.mark.parametrize("run", [ToneMicrophone(fail="no_microphone")], indirect=True)
def test_without_a_microphone_the_reason_is_spoken_and_typing_still_works(
    run: tuple[Kit, Checker, ObjectionRepository],
) -> None:
    kit, c, _objections = run
    page = c.page
    to_the_note(kit, c)
    page.click("#note-speak")
    page.wait_for_url("**/objection/voice")
    page.click("#voice-start")
    error = page.inner_text("#voice-error")
    assert "Tidak ada mikrofon" in error and page.locator("audio#prompt-audio").count() == 1
    c.screen("voice-no-mic")
    fits(page, "#voice-type")
    page.click("#voice-type")
    page.wait_for_url("**/objection/note")
    for key in "sakit":
        page.click(f".osk [data-osk='{key}']")
    page.click("button[value=next]")
    page.wait_for_url("**/objection/photo")
    page.click("button[value=skip]")
    page.wait_for_url("**/objection/review")
    page.click("form[action='/objection/send'] button")
    page.wait_for_url("**/objection/done")
    sealed = kit.sealer.sealed[-1]
    assert sealed["note"] == "sakit" and sealed["voice_note"] is None
