"""The USB screen in headless Chromium at 800x480: an agent logs in, exports the backlog,
the stick goes to the portal, the receipts come back and the records are purged; a missing
stick is shown and said. Every screen screenshotted, axe-checked, 48 px targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import PIN
from browser import Checker, agent_login, kiosk_run, page_fits
from usb_doubles import Usb, attach_usb

from kiosk.config import KioskConfig

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def screen(cfg: KioskConfig, tmp_path: Path, chromium: Any) -> Iterator[tuple[Checker, Usb]]:
    with kiosk_run(chromium, cfg, tmp_path, "usb-", timeout_ms=10_000, speech=False) as run:
        yield run.c, attach_usb(run.kit, tmp_path)


def _fits(page: Any) -> None:
    page_fits(page, buttons=False)


def _login(c: Checker) -> None:
    agent_login(c.page, c, "Bu Rina", PIN)


def test_usb_export_and_receipts_in_the_browser(screen: tuple[Checker, Usb]) -> None:
    c, usb = screen
    page = c.page
    usb.seed(7)
    _login(c)
    c.screen("agent-home")  # the extra button still fits the agent's home screen
    _fits(page)
    page.click("#usb-link")
    page.wait_for_url("**/usb/")
    assert "Ekspor ke USB" in page.inner_text("#usb-export")
    assert "7" in page.inner_text("#usb-waiting")
    assert page.is_disabled("#usb-acks-import")
    c.screen("home")
    _fits(page)

    page.click("#usb-export")
    page.wait_for_selector("#usb-result")
    assert "7 data disalin ke flashdisk" in page.inner_text("#usb-result")
    c.screen("exported")
    _fits(page)
    assert usb.outbox().counts().waiting == 7

    [report] = usb.portal.import_stick(usb.stick)  # at the kecamatan office
    assert report.stored == 7
    page.click("#usb-back")
    page.wait_for_url("**/usb/")
    assert "1" in page.inner_text("#usb-acks")
    page.click("#usb-acks-import")
    page.wait_for_selector("#usb-result")
    assert "7 data dikonfirmasi portal" in page.inner_text("#usb-result")
    assert "tidak ada di flashdisk" in page.inner_text("#usb-cleaned")
    c.screen("receipts")
    _fits(page)
    counts = usb.outbox().counts()
    assert counts.acked == 7 and counts.waiting == 0


def test_usb_missing_stick_in_the_browser(screen: tuple[Checker, Usb]) -> None:
    c, usb = screen
    page = c.page
    usb.seed(2)
    usb.stick.rmdir()
    _login(c)
    page.goto(c.base + "/usb/")
    assert "Flashdisk tidak ditemukan" in page.inner_text("#usb-error")
    assert page.is_disabled("#usb-export")
    c.screen("missing-stick")
    _fits(page)


def test_usb_progress_moves_and_ends_on_the_result(screen: tuple[Checker, Usb]) -> None:
    from playwright.sync_api import expect

    from kiosk.usb.export import ExportResult
    from kiosk.usb.service import UsbJob

    c, usb = screen
    page = c.page
    _login(c)
    job = UsbJob("export", done=30, total=120)
    usb.svc._job = job  # a long export, frozen mid-way
    page.goto(c.base + "/usb/job")
    assert page.get_attribute("#usb-progress", "value") == "25"
    assert "30 dari 120 data" in page.inner_text("#usb-count")
    c.screen("progress")
    _fits(page)
    job.done = 90
    expect(page.locator("#usb-progress")).to_have_js_property("value", 75)
    job.exported = ExportResult("0193", 120, 1, usb.stick)
    job.state = "done"
    page.wait_for_selector("#usb-result")  # the screen noticed by itself
    assert "120 data disalin" in page.inner_text("#usb-result")
