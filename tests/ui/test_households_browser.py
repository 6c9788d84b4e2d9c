"""Issue 17 (members, duplicate No. KK, Dasa Wisma upkeep) in headless Chromium at 800x480 in
Indonesian: the upkeep list, the duplicate family card warning and the member list with its
checks. Each screen is screenshotted and axe-checked like the other browser tests; spoken
prompts are read back from the kiosk's speech cache."""

from __future__ import annotations

from typing import Any

import pytest
from agent_doubles import DW_PIN
from browser import (
    KioskRun,
    agent_login,
    answer_questionnaire,
    fill_member,
    nik_and_face,
    start_registration,
    type_on_keypad,
)
from ui_kit import GOOD_NIK

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = 86400
KK = "3510011501200003"


Run = KioskRun
RUN_PREFIX = "i17"  # the conftest's ``run``: kit, agents and one page


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


def to_family_card(r: Run) -> None:
    """A villager registers: NIK, face (matched), then the No. KK on its keypad."""
    page = r.page
    start_registration(page, r.c)
    nik_and_face(page, GOOD_NIK)
    page.wait_for_url("**/household")
    type_on_keypad(page, KK)
    page.click("button[value=next]")


def health_screen_no_difficulty(r: Run) -> None:
    page = r.page
    page.wait_for_selector(".wg-row")
    for row in page.locator(".wg-row").all():
        row.locator("label.option").first.click()
    if page.locator("[aria-labelledby=m-pregnant-label]").count():
        page.locator("[aria-labelledby=m-pregnant-label] label.option").last.click()
    page.click("#member-save")


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
    page.wait_for_url("**/household/1")
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
    page.wait_for_url("**/household/1")
    assert "2 orang" in page.inner_text("#members-counts")
    assert "Suami" in page.inner_text(".member-list")
    r.c.screen("members-two")
    page.click("button[value=next]")
    page.wait_for_url("**/household/2")


def test_a_child_older_than_the_head_is_refused_on_next_beside_the_member(run: Run) -> None:
    r, page = run, run.page
    to_family_card(r)
    page.wait_for_url("**/household/1/member")
    fill_member(page, name="Rudi", relation="child", sex="M", age="40")
    page.click("#member-next")
    health_screen_no_difficulty(r)
    page.wait_for_url("**/household/1")
    page.click("#add-member")
    fill_member(page, name="Siti Aminah", relation="head", age="45")
    page.click("#member-next")
    health_screen_no_difficulty(r)
    page.wait_for_url("**/household/1")
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
