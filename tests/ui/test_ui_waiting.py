"""The receipt says, honestly, where this record is: saved on the kiosk until the portal holds
it, then sent; never a count that is not the outbox's real state."""

from __future__ import annotations

from pathlib import Path

from test_ui_flow import answer_all, post, register_to_household
from ui_kit import Kit, build_kit

from kiosk.config import KioskConfig


def receipt_page(cfg: KioskConfig, tmp_path: Path) -> tuple[Kit, object]:
    kit = build_kit(cfg, tmp_path)
    c = kit.app.test_client()
    register_to_household(kit, c)
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    return kit, c


def test_receipt_says_saved_while_the_portal_does_not_hold_it(
    cfg: KioskConfig, tmp_path: Path
) -> None:
    _kit, c = receipt_page(cfg, tmp_path)
    page = c.get("/receipt").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'data-delivery="saved"' in page and "menunggu dikirim" not in page
    assert c.get("/api/receipt").get_json() == {"delivery": "saved"}  # type: ignore[attr-defined]


def test_receipt_says_sent_once_the_portal_acked(cfg: KioskConfig, tmp_path: Path) -> None:
    kit, c = receipt_page(cfg, tmp_path)
    record_id = kit.sealer.sealed[0]["record_id"]
    kit.repo._conn.execute("UPDATE outbox SET state = 'acked' WHERE record_id = ?", (record_id,))
    assert c.get("/api/receipt").get_json() == {"delivery": "sent"}  # type: ignore[attr-defined]
    page = c.get("/receipt").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'data-delivery="sent"' in page


def test_vouched_receipt_says_the_office_will_review(cfg: KioskConfig, tmp_path: Path) -> None:
    from ui_doubles import face

    from kiosk.core.session import Outcome

    kit = build_kit(cfg, tmp_path)
    c = kit.app.test_client()
    kit.verifier.script(*(face(Outcome.RETRY) for _ in range(cfg.biometrics.retry_budget)))
    post(c, "/register")
    post(c, "/identify", nik="3510014501900001")
    for attempt in range(1, cfg.biometrics.retry_budget + 1):
        post(c, "/face")
        if attempt < cfg.biometrics.retry_budget:
            post(c, "/result/retry")
    with c.session_transaction() as s:
        token = str(s["reg"])
    kit.registration.vouched(token, "agent-1", None)  # what the agent service does on a vouch
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    page = c.get("/receipt").get_data(as_text=True)
    assert "Kantor akan memeriksa pendaftaran Anda" in page
    assert kit.sealer.sealed[-1]["verification"]["review_required"] is True
