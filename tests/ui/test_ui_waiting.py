"""The receipt tells the person, honestly, when the network is down and records wait."""

from __future__ import annotations

from pathlib import Path

from test_ui_flow import answer_all, post, register_to_household
from ui_kit import build_kit

from kiosk.config import KioskConfig


def receipt_page(cfg: KioskConfig, tmp_path: Path, waiting: int) -> str:
    kit = build_kit(cfg, tmp_path, pending=lambda: waiting)
    c = kit.app.test_client()
    register_to_household(kit, c)
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    return c.get("/receipt").get_data(as_text=True)


def test_receipt_says_the_record_waits_to_be_sent(cfg: KioskConfig, tmp_path: Path) -> None:
    page = receipt_page(cfg, tmp_path, 3)
    assert "tersimpan aman di kios ini" in page and "3 menunggu dikirim" in page


def test_receipt_says_nothing_when_all_is_sent(cfg: KioskConfig, tmp_path: Path) -> None:
    page = receipt_page(cfg, tmp_path, 0)
    assert "menunggu dikirim" not in page
