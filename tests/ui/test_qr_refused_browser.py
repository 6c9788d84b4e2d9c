"""A QR code that is not a NIK the kiosk knows is refused with a reason shown and spoken, and
the way on (the IKD app's code, or the keypad) works: Chromium at 800x480, composed kiosk."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Checker, served_kiosk, to_identify

from kiosk.config import KioskConfig

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class ShownQr:
    """The QR code held in front of the camera (a :class:`ui.ports.QrReader`)."""

    def __init__(self) -> None:
        self.text: str | None = None

    def read(self) -> str | None:
        """What the camera decodes now."""
        return self.text


@pytest.fixture
def kiosk_qr(cfg: KioskConfig, shared_dir: Path, chromium: Any) -> Iterator[tuple[Any, Any, Any]]:
    shown = ShownQr()

    def show_qr(kiosk: Any) -> None:  # the camera's QR reader: what the test holds up
        ui = kiosk.wsgi_app.extensions["kiosk_ui"]
        kiosk.wsgi_app.extensions["kiosk_ui"] = dataclasses.replace(ui, qr=shown)

    prefix = "qr-"
    with served_kiosk(chromium, cfg, prefix, speech=True, timeout_ms=30_000, before=show_qr) as (
        kiosk,
        checker,
    ):
        yield kiosk, shown, checker


def test_a_refused_qr_code_says_why_aloud_and_the_right_one_goes_on(
    kiosk_qr: tuple[Any, ShownQr, Checker],
) -> None:
    kiosk, shown, c = kiosk_qr
    person = next(p for p in kiosk.demo.people if p.expect == "verified")
    page = c.page
    to_identify(page, c)
    assert page.locator("#qr-error").is_hidden()
    shown.text = f"random text {person.nik}"  # 16 digits inside other text: never taken
    page.wait_for_selector("#qr-error:not([hidden])")
    message = page.inner_text("#qr-error")
    assert "bukan kode NIK dari aplikasi IKD" in message and "ketik 16 angka NIK" in message
    page.wait_for_function(
        "() => /\\/speech\\/[0-9a-f]{64}\\.wav/.test(document.getElementById('qr-audio').src)"
    )
    box = page.locator("#qr-error").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 480, "the reason is off screen"
    c.screen("identify-qr-refused")  # axe, weight, targets with the reason shown
    assert "/identify" in page.url and page.input_value("#nik") == ""
    shown.text = f"IKD|{person.nik}|DEMO"  # the way on: the IKD app's own code
    page.wait_for_url("**/face")
