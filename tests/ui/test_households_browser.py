"""Issue 17 (members, duplicate No. KK, Dasa Wisma upkeep) in headless Chromium at 800x480 in
Indonesian: the upkeep list, the duplicate family card warning and the member list with its
checks. Each screen is screenshotted and axe-checked like the other browser tests; spoken
prompts are read back from the kiosk's speech cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import DW_PIN
from browser import (
    KioskRun,
    agent_login,
    answer_questionnaire,
    answer_screen,
    fill_member,
    kiosk_run,
    nik_and_face,
    start_registration,
    type_on_keypad,
)
from ui_kit import GOOD_NIK

from kiosk.config import KioskConfig
from kiosk.core.family_card import FamilyAnswer, PortalFamily

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = 86400
KK = "3510011501200003"


Run = KioskRun


class PortalFamilies:
    """The portal's answer about a No. KK, scripted (the real one: tests/uplink/
    test_family_query_e2e.py over the broker)."""

    def __init__(self) -> None:
        self.answer: FamilyAnswer | None = FamilyAnswer(None)
        self.available = True

    def ask(self, digest: str) -> FamilyAnswer | None:
        return self.answer if self.available else None


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Run]:
    test = request.node.originalname.removeprefix("test_")
    with kiosk_run(chromium, cfg, tmp_path, f"i17-{test}-", families=PortalFamilies()) as run:
        yield run


def dw_login(r: Run) -> None:
    agent_login(r.page, r.c, "Bu Sri", DW_PIN)


def _dw_household(kk: str, name: str, **kw: Any) -> dict[str, Any]:
    member = {"member_id": "m1", "name": name, "relation": "head", "sex": "F", "birth_year": 1960}
    return {"kk": kk, "address": "RT 01", "members": [member], "crops": ["rice"], **kw}


# --- Dasa Wisma upkeep ----------------------------------------------------------------------
def test_upkeep_list(run: Run) -> None:
    """Households not updated for 30 days first, the last change in words, unregistered ones."""
    r, page = run, run.page
    svc = r.agents.svc
    token = svc.login("AG-DW-01", DW_PIN)
    svc.save_household(token, _dw_household("3510011203150001", "Siti Aminah"))
    other = svc.save_household(token, _dw_household("3510011203150002", "Wati"))
    svc.logout(token)
    r.kit.clock.advance(20 * DAY)
    token = svc.login("AG-DW-01", DW_PIN)
    ill = _dw_household("3510011203150002", "Wati", crops=["corn", "rice"])
    ill["members"][0] |= {"illnesses": ["tuberculosis"], "work": "farmer"}
    svc.save_household(token, dict(ill, household_id=other.household_id))
    svc.logout(token)
    r.kit.clock.advance(15 * DAY)  # Siti: 35 days without an update, Wati: 15

    dw_login(r)
    page.click("#roster-link")
    page.wait_for_url("**/agent/roster")
    page.click("#upkeep-link")
    page.wait_for_url("**/agent/roster/upkeep")
    summary = page.inner_text("#upkeep-summary")
    assert "1 rumah tangga perlu dikunjungi" in summary and "30 hari" in summary
    assert "2 belum terdaftar" in summary
    assert summary.strip() in r.spoken(), "the summary is spoken"
    rows = page.locator(".upkeep-list > li")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Siti Aminah" in first and "35 hari" in first and "perlu dikunjungi" in first
    assert "Wati" in second and "perlu dikunjungi" not in second
    for words in ("Sakit", "+ TBC", "Tanaman", "+ Jagung", "Pekerjaan", "Petani"):
        assert words in second, (words, second)
    assert "belum terdaftar" in first and "belum terdaftar" in second
    assert r.fits(".actions-bottom a")
    r.c.screen("upkeep")


def to_family_card_screen(r: Run) -> None:
    """A villager registers: NIK, face (matched), then the No. KK screen."""
    page = r.page
    start_registration(page, r.c)
    nik_and_face(page, GOOD_NIK)
    page.wait_for_url("**/household")


def to_family_card(r: Run) -> None:
    """... and the No. KK on its keypad (and the dusun), Next."""
    to_family_card_screen(r)
    answer_screen(r.page)
    r.page.click("button[value=next]")


def health_screen_no_difficulty(r: Run) -> None:
    """The member's health screen answered "no difficulty" (not pregnant), saved: the list."""
    page = r.page
    page.wait_for_selector(".wg-row")
    for row in page.locator(".wg-row").all():
        row.locator("label.option").first.click()
    if page.locator("[aria-labelledby=m-pregnant-label]").count():
        page.locator("[aria-labelledby=m-pregnant-label] label.option").last.click()
    page.click("#member-save")
    page.wait_for_url("**/household/1")


def add_member(r: Run, **member: str) -> None:
    """One member on the member screen (see ``fill_member``), no difficulty: the list."""
    fill_member(r.page, **member)
    r.page.click("#member-next")
    health_screen_no_difficulty(r)


# --- household members ----------------------------------------------------------------------
def test_member_list_refuses_a_second_head_with_a_spoken_reason(run: Run) -> None:
    r, page = run, run.page
    to_family_card(r)
    page.wait_for_url("**/household/1/member")  # nobody yet: straight to the first member
    r.c.screen("member-first")
    fill_member(page)
    page.click("#member-next")
    page.wait_for_url("**/member/health")
    spoken = r.spoken()
    assert "Apakah sulit melihat, walaupun memakai kacamata?" in spoken, "the WG question is said"
    assert "?." not in spoken
    assert "hamil" in spoken, "a woman of 45 is asked about pregnancy"
    r.c.screen("member-health")
    health_screen_no_difficulty(r)
    assert "Siti Aminah" in page.inner_text(".member-list")
    assert "1 orang" in page.inner_text("#members-counts")
    r.c.screen("members-one")

    page.click("#add-member")
    page.wait_for_url("**/household/1/member")
    fill_member(page, name="Joko Santoso", relation="head", sex="M", age="50")
    page.click("#member-next")
    page.wait_for_selector("#m-relation-error")
    error = page.inner_text("#m-relation-error").strip()
    assert "Kepala keluarga hanya boleh satu" in error and "Siti Aminah" in error
    assert page.get_attribute("#m-relation", "aria-invalid") == "true"
    assert page.get_attribute("#m-relation", "aria-describedby") == "m-relation-error"
    assert error in r.spoken(), "the reason is spoken"
    assert page.input_value("#m-name") == "Joko Santoso", "what was typed stays"
    assert r.fits("#member-next")
    r.c.screen("member-two-heads")

    page.select_option("#m-relation", "husband")
    page.click("#member-next")
    page.wait_for_url("**/member/health")
    health_screen_no_difficulty(r)
    assert "2 orang" in page.inner_text("#members-counts")
    assert "Suami" in page.inner_text(".member-list")
    r.c.screen("members-two")
    page.click("button[value=next]")
    page.wait_for_url("**/household/2")


def test_a_child_older_than_the_head_is_refused_on_next_beside_the_member(run: Run) -> None:
    r, page = run, run.page
    to_family_card(r)
    page.wait_for_url("**/household/1/member")
    add_member(r, name="Rudi", relation="child", sex="M", age="40")
    page.click("#add-member")
    add_member(r, name="Siti Aminah", relation="head", age="45")
    page.click("button[value=next]")
    page.wait_for_selector("#member-0-error")
    error = page.inner_text("#member-0-error").strip()
    assert "12 tahun lebih muda" in error
    assert error in r.spoken()
    r.c.screen("members-child-too-old")


# --- duplicate family card ------------------------------------------------------------------
def test_duplicate_family_card_is_flagged_and_becomes_an_update(run: Run) -> None:
    r, page = run, run.page
    reg = r.kit.registration
    token = reg.start()  # the husband registered this family card earlier at this kiosk
    reg.identify(token, "3510010501800001")
    reg.check_face(token)
    reg.household(token, {"kk_number": KK, "members_count": 3})
    reg.consent(token, True)
    reg.submit(token)
    first = r.kit.sealer.sealed[0]
    r.kit.clock.advance(3 * DAY)

    to_family_card(r)
    page.wait_for_url("**/household/1/known")
    main = page.inner_text("main")
    assert "Kartu Keluarga ini sudah terdaftar" in main and "dengan 3 orang" in main
    assert "memperbarui pendaftaran itu" in main
    assert "Kartu Keluarga ini sudah terdaftar" in r.spoken()
    assert first["receipt_no"] not in main, "another person's receipt code is never shown"
    assert r.fits("#family-known-next")
    r.c.screen("family-known")
    page.click("#family-known-next")
    page.wait_for_url("**/household/1/member")
    answer_questionnaire(page, r.c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    update = r.kit.sealer.sealed[-1]
    assert update["registration"] == {
        "id": first["registration"]["id"],
        "version": 2,
        "same_family_card": True,
    }
    assert update["answers"]["members_count"] == 1


# --- the dusun beside the No. KK ----------------------------------------------------------
def test_the_dusun_is_chosen_beside_the_family_card_number(run: Run) -> None:
    r, page = run, run.page
    r.kit.app.extensions["kiosk_ui"].choices = lambda: {"dusun": ("Krajan", "Sumberejo")}
    to_family_card_screen(r)
    assert page.locator("#q-dusun option").all_inner_texts()[1:] == ["Krajan", "Sumberejo"]
    assert page.locator(".keypad").count(), "the No. KK keeps its keypad"
    type_on_keypad(page, KK)
    page.click("button[value=next]")  # no dusun chosen: refused beside it, spoken
    page.wait_for_selector("#q-dusun-error")
    assert page.get_attribute("#q-dusun", "aria-invalid") == "true"
    assert page.inner_text("#q-dusun-error").strip() in r.spoken()
    assert page.input_value("#q-kk_number").replace(" ", "") == KK, "the typed No. KK stays"
    r.c.screen("kk-dusun-refused")
    assert r.fits("button[value=next]") and r.fits("#q-dusun") and r.fits(".keypad button")
    page.select_option("#q-dusun", "Sumberejo")
    r.c.screen("kk-dusun")
    page.click("button[value=next]")
    page.wait_for_url("**/household/1/member")
    answer_questionnaire(page, r.c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    assert "Sumberejo" in page.inner_text("main")
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    assert r.kit.sealer.sealed[-1]["answers"]["dusun"] == "Sumberejo"


# --- a family card registered at ANOTHER kiosk ------------------------------------------------
ELSEWHERE = "0193a0a0-0000-7000-8000-00000000000a"


def families(r: Run) -> PortalFamilies:
    found = r.kit.registration._families
    assert isinstance(found, PortalFamilies)
    return found


def test_a_family_card_known_at_the_portal_is_flagged_and_becomes_an_update(run: Run) -> None:
    r, page = run, run.page
    registered = r.kit.clock.now() - 9 * DAY
    families(r).answer = FamilyAnswer(PortalFamily(ELSEWHERE, 2, registered, 4))
    to_family_card(r)
    page.wait_for_url("**/household/1/known")
    main = page.inner_text("main")
    assert "Kartu Keluarga ini sudah terdaftar" in main
    assert "di kios lain" in main and "dengan 4 orang" in main
    assert "memperbarui pendaftaran itu" in main
    assert "di kios lain" in r.spoken(), "the flag is spoken"
    assert r.fits("#family-known-next")
    r.c.screen("family-known-elsewhere")
    page.click("#family-known-next")
    page.wait_for_url("**/household/1/member")
    answer_questionnaire(page, r.c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    assert not page.locator("#family-local").count(), "the portal answered: no caution"
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")
    update = r.kit.sealer.sealed[-1]
    assert update["registration"] == {"id": ELSEWHERE, "version": 3, "same_family_card": True}


def test_offline_the_family_card_is_checked_here_only_and_review_says_so(run: Run) -> None:
    r, page = run, run.page
    families(r).available = False
    to_family_card(r)
    page.wait_for_url("**/household/1/member")  # not known here, no answer: on with the form
    answer_questionnaire(page, r.c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    notice = page.inner_text("#family-local")
    assert "hanya diperiksa di kios ini" in notice
    assert notice.strip() in r.spoken(), "the caution is spoken"
    assert r.fits("button[value=send]")
    r.c.screen("review-family-local")
