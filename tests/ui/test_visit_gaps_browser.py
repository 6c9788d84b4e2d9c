"""Issue 15 sub-points that had no real-Chromium test (800x480): a vouched villager's receipt and
status, editing one answer on review without a second consent, a crash between the commit and
the receipt, the scroll cue of the vouch reasons, and the technician page (Indonesian words,
the configured broker). Each screen is screenshotted and axe-checked like the other tests."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import check_status, fail_face_three_times, kiosk_run
from test_visit_browser import answer_quickly
from test_visit_edges_browser import Run, agent_login, on_household_v1, to_questionnaire
from ui_kit import GOOD_NIK

from kiosk.config import KioskConfig

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def serve(cfg: KioskConfig, tmp_path: Path, chromium: Any, name: str) -> Iterator[Run]:
    """The kit with agents and speech, served, in one 800x480 touch page."""
    prefix = f"i15gap-{name}-"
    with kiosk_run(chromium, cfg, tmp_path, prefix, timeout_ms=20_000, help_caller=True) as run:
        yield run


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Run]:
    yield from serve(cfg, tmp_path, chromium, request.node.originalname.removeprefix("test_"))


def to_review(r: Run) -> None:
    """From the first questionnaire screen, every answer given and consent agreed."""
    answer_quickly(r.page)
    r.page.click("button[value=agree]")
    r.page.wait_for_url("**/review")


# --- problem 7 (vouched receipt) and 2 (everyone vouched for can see their status) ----------
def test_a_vouched_receipt_says_the_office_reviews_and_the_code_opens_its_status(
    run: Run,
) -> None:
    r, page = run, run.page
    fail_face_three_times(page, r.c, r.kit.verifier, GOOD_NIK)
    page.click(".message form[action='/help'] button")
    page.wait_for_selector("#help-title")
    agent_login(r)
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    page.locator("label.option").filter(has=page.locator("input[value=elderly]")).click()
    page.click("#vouch-submit")
    page.wait_for_url("**/household*")
    to_review(r)
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    r.c.screen("receipt-vouched")
    assert "Kantor akan memeriksa pendaftaran Anda sebelum memutuskan" in page.inner_text("main")
    assert "memeriksa pendaftaran" in r.spoken()
    assert r.kit.sealer.sealed[-1]["verification"]["outcome"] == "vouched"
    code = page.inner_text(".receipt-no")
    r.kit.repo._conn.execute("UPDATE outbox SET state = 'acked'")  # the portal holds it
    face_checks = len(r.kit.verifier.calls)
    check_status(page, r.c, GOOD_NIK, code)
    r.c.screen("status-vouched")
    main = page.inner_text("main")
    assert code in main
    assert "petugas sudah memastikan siapa Anda" in main
    assert len(r.kit.verifier.calls) == face_checks, "a vouched person needs no face match"


# --- problem 8: changing one answer does not force the consent again ---------------------------
def test_changing_one_answer_on_review_keeps_the_consent(run: Run) -> None:
    r, page = run, run.page
    on_household_v1(r)  # its typed counts: the answer changed here
    to_questionnaire(r)
    to_review(r)
    r.c.screen("review")
    before = len(r.c.requests)
    page.locator("button[name=edit][aria-label*='penghasilan']").click()  # income
    page.wait_for_url("**/household/*")
    old = page.locator(".options input:checked").get_attribute("value")
    page.locator("label.option").last.click()
    new = page.locator(".options input:checked").get_attribute("value")
    assert new != old
    page.click("button[value=next]")
    page.wait_for_url("**/review")
    r.c.screen("review-after-edit")
    assert not any("/consent" in u for u in r.c.requests[before:]), "consent was asked again"
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    record = r.kit.sealer.sealed[-1]
    assert new in record["answers"].values() and old not in record["answers"].values()
    assert record["consent"]["given"] is True


# --- problem 9: a crash between the commit and the receipt ------------------------------------
def test_a_crash_after_the_commit_then_send_again_shows_the_committed_receipt(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.core.session import RegistrationSession

    r, page = run, run.page
    on_household_v1(r)  # its typed counts: the answer changed here
    to_questionnaire(r)
    to_review(r)
    original = RegistrationSession.submitted

    def crash(self: RegistrationSession, receipt_no: str) -> None:
        monkeypatch.setattr(RegistrationSession, "submitted", original)  # once
        raise RuntimeError("power dip between the commit and the receipt")

    monkeypatch.setattr(RegistrationSession, "submitted", crash)
    page.click("button[value=send]")
    page.wait_for_selector("#error-screen")
    r.c.screen("crash-after-commit")
    assert "500" not in page.inner_text("main")
    assert r.kit.repo.count() == 1, "the record was committed before the crash"
    page.click("#error-back")
    page.wait_for_url("**/review")
    page.click("button[value=send]")  # the person touches "Kirim" again
    page.wait_for_url("**/receipt")
    r.c.screen("receipt-after-retry")
    committed = r.kit.repo._conn.execute("SELECT receipt_no FROM registration").fetchall()
    assert [row[0] for row in committed] == [page.inner_text(".receipt-no")]
    assert r.kit.repo.count() == 1 and len(r.kit.sealer.sealed) == 1, "a second record"


# --- problem 6: the vouch reasons show that they scroll ---------------------------------------
def test_vouch_reasons_that_overflow_show_a_scroll_cue_and_the_buttons_stay(run: Run) -> None:
    r, page = run, run.page
    fail_face_three_times(page, r.c, r.kit.verifier, GOOD_NIK)
    agent_login(r)
    page.set_viewport_size({"width": 800, "height": 360})  # fewer rows than reasons
    page.goto(r.c.base + "/agent/vouch")
    area = page.locator(".vouch-reasons .options")
    assert page.evaluate(
        "() => { const a = document.querySelector('.vouch-reasons .options');"
        " return a.scrollHeight > a.clientHeight + 2; }"
    ), "the reasons do not overflow here: the test would prove nothing"
    assert "scrollable" in (area.get_attribute("class") or "")
    assert page.locator(".scroll-cue").first.is_visible()
    assert r.fits("#vouch-submit") and r.fits(".vouch-form a.btn")
    area.evaluate("a => { a.scrollTop = a.scrollHeight; a.dispatchEvent(new Event('scroll')); }")
    page.wait_for_function("() => !document.querySelector('.scroll-cue').offsetParent")
    page.set_viewport_size({"width": 800, "height": 480})
    r.c.screen("vouch-scrolled")


def said(words: str, text: str) -> bool:
    """``words`` appear in ``text`` as whole words ("done" is not in "Indonesia")."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


# --- problem 11: the technician page is Indonesian and tests the configured broker -----------
@pytest.fixture
def broker_port() -> Iterator[int]:
    """A listening TCP port on loopback that is not 1883 (the kiosk's configured broker)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_the_technician_page_is_indonesian_and_checks_the_configured_broker(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, broker_port: int
) -> None:
    from provisioning.layout import Layout
    from provisioning.selftest import Probes
    from provisioning.technician import set_secret
    from ui.technician import texts

    assert broker_port != 1883
    kiosk_cfg = cfg.model_copy(
        update={
            "uplink": cfg.uplink.model_copy(
                update={"enabled": True, "host": "127.0.0.1", "port": broker_port}
            )
        }
    )
    for r in serve(kiosk_cfg, tmp_path, chromium, "technician"):
        page = r.page
        (tmp_path / "tech").mkdir()
        r.kit.app.config["KIOSK_DATA_DIR"] = str(tmp_path / "tech")
        r.kit.app.config["KIOSK_TECHNICIAN_PROBES"] = Probes(
            clock_synchronised=lambda: True, min_free_bytes=1
        )
        set_secret(Layout(tmp_path / "tech"), "kunci desa")
        page.goto(r.c.base + "/technician/login")
        page.fill("#password", "kunci desa")
        page.click(".osk-submit")
        page.wait_for_url("**/technician/")
        english = [
            str(m._args[0])  # the msgid, whatever language is active
            for table in (texts.STEP_TITLES, texts.STATES)
            for m in table.values()
        ]
        home = page.inner_text("main")
        assert [e for e in english if said(e, home)] == [], "English step names or states"
        assert "Identitas perangkat" in home
        page.click("form[action='/technician/selftest'] button")
        page.wait_for_selector("#check-broker")
        r.c.screen("selftest")
        broker = page.inner_text("#check-broker")
        assert f"127.0.0.1:{broker_port}" in broker and ":1883" not in broker
        assert "cannot reach" not in broker, "the configured port was not the one tested"
        english = [
            str(m._args[0])
            for table in (texts.CHECK_RESULTS, texts.CHECK_NAMES, texts.CHECK_FIXES)
            for m in table.values()
        ] + ["How to fix", "Check", "Result", "PASSED", "needs confirmation"]
        shown = " ".join(
            " ".join(page.locator(s).all_inner_texts())
            for s in ("h1", "thead", "tbody th", "tbody td.result", "tbody strong")
        ) + " ".join(
            t.split("Cara memperbaiki:")[-1]
            for t in page.locator("tbody td:last-child").all_inner_texts()
            if "Cara memperbaiki:" in t
        )
        assert [e for e in english if said(e, shown)] == [], "English names, results or fix hints"
        assert "Cara memperbaiki" in page.inner_text("tbody")
        # the self-test's own record keeps the console's English detail lines
        checks = json.loads(Layout(tmp_path / "tech").selftest.read_text())["checks"]
        for c in checks:
            row = page.inner_text(f"#check-{c['name']}")
            assert c["detail"] not in row, f"English detail on the page: {c['detail']}"
