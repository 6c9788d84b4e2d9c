"""Issue 15 in headless Chromium at 800x480: the vouch screen fits with its buttons whole and
speaks its error beside the field; help is honest about who is on duty and closes when
answered; entry checks (No. KK, household counts, steppers, question counter, plurals, QR);
every KioskError is a translated, spoken screen (disk full keeps the session). Each screen is
screenshotted and axe-checked like the other browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agent_doubles import PIN
from browser import (
    KioskRun,
    answer_questionnaire,
    answer_screen,
    fail_face_three_times,
    nik_and_face,
    served_kiosk,
    start_registration,
    type_on_keypad,
)
from browser import agent_login as browser_agent_login
from ui_kit import GOOD_NIK

from kiosk.config import KioskConfig
from kiosk.core.forms import load_form
from kiosk.services.registration import FormInfo
from ui import services

pytestmark = [pytest.mark.browser, pytest.mark.slow]


Run = KioskRun
RUN_PREFIX = "i15"  # the conftest's ``run``: kit, agents and one page
RUN_HELP_CALLER = True


def on_household_v1(r: Run) -> None:
    """Ask household_v1 (its typed counts and grouped screens: the form mechanism these tests
    check; the kiosk itself asks household_v2's member list)."""
    form = load_form("household_v1")
    services(r.kit.app).form = form
    service = r.kit.registration  # the service pages and seals by the same questionnaire
    info = service._form
    service._form = FormInfo(form.form_id, str(form.version), info.consent_version, form)


def agent_login(r: Run) -> None:
    browser_agent_login(r.page, r.c, "Bu Rina", PIN)


# --- 1. the vouch screen ------------------------------------------------------------------
def test_vouch_screen_fits_and_speaks_a_missing_reason_beside_the_field(run: Run) -> None:
    r, page = run, run.page
    fail_face_three_times(r.page, r.c, r.kit.verifier, GOOD_NIK)
    agent_login(r)
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    r.c.screen("vouch")
    assert r.fits("#vouch-submit"), "the confirm button is cut or off screen at 800x480"
    assert r.fits(".vouch-form a.btn"), "the back button is cut or off screen at 800x480"
    page.click("#vouch-submit")  # no reason chosen
    page.wait_for_selector("#vouch-error")
    r.c.screen("vouch-no-reason")
    assert page.locator("fieldset.vouch-reasons #vouch-error").count() == 1, (
        "error not at the field"
    )
    assert "Pilih" in page.inner_text("#vouch-error")
    assert page.inner_text("#vouch-error").strip() in r.spoken()
    assert r.fits("#vouch-submit") and r.fits(".vouch-form a.btn")
    assert r.agents.outbox("vouch") == []


def test_scroll_areas_show_that_they_scroll(run: Run) -> None:
    r, page = run, run.page
    page.set_viewport_size({"width": 800, "height": 400})  # fewer rows than reasons
    fail_face_three_times(r.page, r.c, r.kit.verifier, GOOD_NIK)
    agent_login(r)
    page.goto(r.c.base + "/agent/vouch")
    area = page.locator(".vouch-reasons .options")
    if page.evaluate(
        "() => { const a = document.querySelector('.vouch-reasons .options');"
        " return a.scrollHeight > a.clientHeight + 2; }"
    ):
        assert "scrollable" in (area.get_attribute("class") or "")
        assert page.locator(".scroll-cue").first.is_visible()
        assert "Geser" in page.inner_text(".scroll-cue")
        area.evaluate(
            "a => { a.scrollTop = a.scrollHeight; a.dispatchEvent(new Event('scroll')); }"
        )
        assert not page.locator(".scroll-cue").first.is_visible()
    else:  # the list fits: then it must not pretend to scroll
        assert not page.locator(".scroll-cue").first.is_visible()
    page.set_viewport_size({"width": 800, "height": 480})


# --- 2. help honesty ----------------------------------------------------------------------
def test_help_without_an_agent_on_duty_says_what_happens_instead(run: Run) -> None:
    r, page = run, run.page
    assert r.agents.svc.on_duty() == []
    start_registration(page, r.c)
    page.click("header form[action='/help'] button")
    page.wait_for_selector("#help-title")
    r.c.screen("help-nobody-on-duty")
    text = page.inner_text("main")
    assert "Saat ini tidak ada petugas yang berjaga" in text
    assert "Petugas sudah dipanggil" not in text, "promises an agent although none is on duty"
    assert "Petugas akan datang" not in text
    assert "loket kantor desa" in text
    assert "Senin sampai Jumat, jam 08.00 sampai 15.00" in text  # [agents] office hours
    assert "Senin sampai Jumat" in r.spoken()
    assert r.fits("main a.btn-primary")


def test_help_with_an_agent_on_duty_promises_the_agent(run: Run) -> None:
    r, page = run, run.page
    r.agents.svc.accounts.set_on_duty("AG-DW-01", True)
    start_registration(page, r.c)
    page.click("header form[action='/help'] button")
    page.wait_for_selector("#help-title")
    r.c.screen("help-on-duty")
    assert "Petugas akan datang" in page.inner_text("#help-title")
    assert "Bu Sri" in page.inner_text(".on-duty")


def test_a_help_request_closes_when_the_agent_answers_it(run: Run) -> None:
    r, page = run, run.page
    fail_face_three_times(r.page, r.c, r.kit.verifier, GOOD_NIK)
    page.click(".message form[action='/help'] button")
    page.wait_for_selector("#help-title")
    assert len(r.agents.svc.pending_help()) == 1
    agent_login(r)
    assert page.locator("text=Panggilan dari layar").count() == 1
    page.click("#start-vouch")
    page.wait_for_url("**/agent/vouch")
    page.locator("label.option").filter(has=page.locator("input[value=elderly]")).click()
    page.click("#vouch-submit")
    page.wait_for_url("**/household*")
    assert r.agents.svc.pending_help() == []
    page.goto(r.c.base + "/agent/home")
    r.c.screen("home-after-vouch")
    assert page.locator("text=Panggilan dari layar").count() == 0
    assert "Tidak ada yang menunggu" in page.inner_text("main")


# --- 3. entry checks ----------------------------------------------------------------------
def to_questionnaire(r: Run, lang: str = "id") -> None:
    page = r.page
    start_registration(page, r.c, lang)
    nik_and_face(page, GOOD_NIK)
    page.wait_for_url("**/household*")


def test_a_family_card_number_with_an_unknown_region_is_refused_beside_the_field(run: Run) -> None:
    on_household_v1(run)
    r, page = run, run.page
    to_questionnaire(r)
    type_on_keypad(page, "1234567890123456")  # the example
    page.click("button[value=next]")
    page.wait_for_selector("#q-kk_number-error")
    r.c.screen("kk-region-refused")
    error = page.inner_text("#q-kk_number-error")
    assert "kode wilayah" in error
    assert error.strip() in r.spoken()
    assert page.get_attribute("#q-kk_number", "aria-invalid") == "true"
    type_on_keypad(page, "3510011501200003")
    page.click("button[value=next]")
    page.wait_for_selector("input[name=members_count]")


def actions_on_screen(r: Run) -> bool:
    """Both "Kembali" and "Lanjut" are whole inside the 800x480 viewport (no scrolling)."""
    return r.fits(".actions-bottom button[value=back]") and r.fits(
        ".actions-bottom button[value=next]"
    )


def step(page: Any, qid: str, by: int) -> None:
    """One press of "+" (``by`` 1) or "-" (-1) on the stepper of question ``qid``."""
    page.click(f".stepper:has(#q-{qid}) [data-step='{by}']")


def test_counts_stepper_counter_and_plurals(run: Run) -> None:
    on_household_v1(run)
    r, page = run, run.page
    to_questionnaire(r)
    type_on_keypad(page, "3510011501200003")
    page.click("button[value=next]")
    page.wait_for_selector("input[name=members_count]")
    # the three counts share one screen, each with its own stepper, all within 800x480
    for qid in ("members_count", "children_count", "elderly_count"):
        assert page.locator(f"#q-{qid}").is_visible()
    progress = page.inner_text(".progress")
    step(page, "members_count", -1)  # "-" on an empty counter of people (min 1)
    assert page.input_value("#q-members_count") == "", "'-' on an empty counter gave a number"
    step(page, "members_count", 1)
    assert page.input_value("#q-members_count") == "1"
    for _ in range(2):
        step(page, "members_count", 1)
    assert page.input_value("#q-members_count") == "3"
    for _ in range(5):
        step(page, "children_count", 1)
    step(page, "elderly_count", -1)
    assert page.input_value("#q-elderly_count") == "0"
    assert page.input_value("#q-members_count") == "3", "one stepper moved another"
    page.click("button[value=next]")  # 5 children in a household of 3
    page.wait_for_selector("#q-children_count-error")
    r.c.screen("children-exceed-household")
    error = page.inner_text("#q-children_count-error")
    assert "5" in error and "3" in error
    assert error.strip() in r.spoken()
    # the error sits in the children's row, between its question and its stepper
    row = page.locator(".group-row", has=page.locator("#q-children_count"))
    assert row.locator("#q-children_count-error").count() == 1
    assert page.locator(".group-row .error").count() == 1
    assert page.input_value("#q-members_count") == "3"  # the other answers stay
    assert actions_on_screen(r), "the error pushed the buttons off the 800x480 screen"
    assert progress.startswith("Pertanyaan 2 dari ")
    total = progress.split(" dari ")[1].split()[0]
    # answer on; the follow-up after "disability: yes" keeps the total and shares a number
    page.fill("#q-children_count", "1")
    page.click("button[value=next]")
    page.wait_for_selector("input[name=main_work]")
    seen: list[str] = []
    for _ in range(30):
        if "/consent" in page.url:
            break
        seen.append(page.inner_text(".progress").split(" - ")[0])
        answer_screen(page)  # the first answer everywhere: "yes" to every health question
        page.click("button[value=next]")
        page.wait_for_load_state("load")
    totals = {s.split(" dari ")[1] for s in seen}
    assert totals == {total}, f"the question count changed: {seen}"
    numbers = [int(s.split()[1]) for s in seen]
    assert numbers == sorted(numbers) and max(numbers) == int(total)
    assert len(numbers) == len(set(numbers)) + 1, "the disability follow-up did not appear"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_grouped_health_screen_refuses_each_missing_answer_in_its_row(
    run: Run, lang: str
) -> None:
    on_household_v1(run)
    r, page = run, run.page
    to_questionnaire(r, lang)
    for _ in range(8):  # answer on up to the grouped yes/no health screen
        if page.locator("#q-chronic_illness-label").count():
            break
        answer_screen(page)
        page.click("button[value=next]")
        page.wait_for_load_state("load")
    assert page.locator(".group-row").count() == 3
    for qid in ("pregnant", "disability", "chronic_illness"):  # each question is spoken
        assert page.inner_text(f"#q-{qid}-label").strip() in r.spoken()
    assert actions_on_screen(r)
    page.click("button[value=next]")  # nothing answered: three errors, one in each row
    page.wait_for_selector("#q-pregnant-error")
    r.c.screen(f"health-all-missing-{lang}")
    assert page.locator(".group-row .error").count() == 3
    assert actions_on_screen(r), "three errors pushed the buttons off the 800x480 screen"
    page.locator(".group-row", has=page.locator("input[name=pregnant]")).locator(
        "label.option"
    ).last.click()  # only "pregnant: no"; the other two left unanswered
    page.click("button[value=next]")
    page.wait_for_selector("#q-disability-error")
    r.c.screen(f"health-two-missing-{lang}")
    assert page.locator(".group-row .error").count() == 2
    for qid in ("disability", "chronic_illness"):
        row = page.locator(".group-row", has=page.locator(f"input[name={qid}]"))
        assert row.locator(f"#q-{qid}-error").count() == 1
        assert page.inner_text(f"#q-{qid}-error").strip() in r.spoken()
    assert page.locator("input[name=pregnant][value=no]").is_checked()  # kept
    assert actions_on_screen(r), "the errors pushed the buttons off the 800x480 screen"


def test_english_plural_on_the_stepper(run: Run) -> None:
    on_household_v1(run)
    r, page = run, run.page
    page.goto(r.c.base + "/")
    page.click(".attract-button")
    page.click("button[value=en]")
    page.click("form[action='/register'] button")
    type_on_keypad(page, GOOD_NIK)
    page.click("#nik-form button[type=submit]")
    page.click(".capture-form button[type=submit]")
    page.click("a[href='/household']")
    type_on_keypad(page, "3510011501200003")
    page.click("button[value=next]")
    page.wait_for_selector("input[name=members_count]")
    unit = ".stepper:has(#q-members_count) .unit"
    step(page, "members_count", 1)
    assert page.inner_text(unit) == "person"
    step(page, "members_count", 1)
    assert page.inner_text(unit) == "people"


def test_a_qr_with_sixteen_digits_inside_other_text_is_not_a_nik(run: Run) -> None:
    r, page = run, run.page
    r.kit.qr.text = "random text 1234567890123456"
    start_registration(page, r.c)
    page.wait_for_url("**/identify")
    page.wait_for_timeout(1600)  # two polls of the QR reader
    assert "/identify" in page.url and page.input_value("input[name=nik]") == ""
    r.kit.qr.text = GOOD_NIK
    page.wait_for_url("**/face")


# --- 4. errors at the edge ----------------------------------------------------------------
def fill_the_disk(r: Run) -> Any:
    """The next commit meets SQLite's own "database or disk is full", inside the real
    transaction (which maps it to StorageFullError and rolls back); returns the undo."""
    import sqlite3

    from kiosk.store.db import transaction

    repo, real = r.kit.repo, r.kit.repo.commit

    def full(*_args: Any, **_kwargs: Any) -> None:
        with transaction(repo._conn) as c:
            c.execute("SELECT 1")
            raise sqlite3.OperationalError("database or disk is full")

    repo.commit = full  # type: ignore[method-assign]
    return lambda: setattr(repo, "commit", real)


def test_disk_full_during_submit_is_a_spoken_screen_and_keeps_the_session(run: Run) -> None:
    r, page = run, run.page

    to_questionnaire(r)
    answer_questionnaire(page, r.c)
    page.click("button[value=agree]")
    page.wait_for_url("**/review")
    undo = fill_the_disk(r)
    page.click("button[value=send]")
    page.wait_for_selector("#error-screen")
    r.c.screen("disk-full-at-submit")
    text = page.inner_text("main")
    assert "Penyimpanan kios penuh" in text and "500" not in text
    assert "Penyimpanan kios penuh" in r.spoken()
    assert r.kit.repo._conn.execute("SELECT COUNT(*) FROM registration").fetchone()[0] == 0
    page.click("#error-back")
    page.wait_for_url("**/review")  # the session and every answer are still there
    undo()  # the office freed space
    page.click("button[value=send]")
    page.wait_for_url("**/receipt")


def test_disk_space_is_checked_when_a_session_starts(run: Run) -> None:
    r, page = run, run.page
    from kiosk.store.db import ensure_free_space

    r.kit.registration._ensure_space = lambda: ensure_free_space(r.tmp, 2**62)  # type: ignore[attr-defined]
    page.goto(r.c.base + "/")
    page.click(".attract-button")
    page.click("button[value=id]")
    page.click("form[action='/register'] button")
    page.wait_for_selector("#error-screen")
    r.c.screen("disk-full-at-start")
    assert "Penyimpanan kios penuh" in page.inner_text("main")
    assert "/identify" not in page.url  # nobody answers questions that cannot be saved


def test_an_unexpected_error_is_a_spoken_screen_not_a_bare_500(run: Run) -> None:
    r, page = run, run.page
    page.goto(r.c.base + "/no-such-page")
    assert "Halaman ini tidak ada" in page.inner_text("main")
    assert page.locator("#error-back").is_visible()


# --- 5. the technician page ---------------------------------------------------------------
def test_technician_logs_in_with_the_on_screen_keyboard_and_sees_failures_stand_out(
    run: Run, cfg: KioskConfig
) -> None:
    from provisioning.layout import Layout
    from provisioning.technician import set_secret

    r, page = run, run.page
    r.kit.app.config["KIOSK_DATA_DIR"] = str(r.tmp / "tech")
    (r.tmp / "tech").mkdir()
    set_secret(Layout(r.tmp / "tech"), "Desa Maju 7")
    from provisioning.selftest import Probes

    r.kit.app.config["KIOSK_TECHNICIAN_PROBES"] = Probes(  # a disk that is too small: one fail
        clock_synchronised=lambda: True, min_free_bytes=2**62
    )
    page.goto(r.c.base + "/technician/login")
    r.c.screen("technician-login")
    assert r.fits(".osk"), "the on-screen keyboard is cut at 800x480"
    for ch in "Desa Maju 7":
        if ch.isupper():
            page.click("[data-osk=shift]")
            page.click(f"[data-osk='{ch.lower()}']")
            page.click("[data-osk=shift]")
        else:
            page.click(f"[data-osk='{ch}']")
    assert page.input_value("#password") == "Desa Maju 7"
    assert r.fits(".osk-submit"), "the log-in button is below the fold at 800x480"
    page.click(".osk-submit")
    page.wait_for_url("**/technician/")
    r.c.screen("technician-home")
    assert "Identitas perangkat" in page.inner_text("main")
    page.click("form[action='/technician/selftest'] button")
    page.wait_for_selector("#check-disk")
    r.c.screen("technician-selftest")
    failed = page.locator("tr#check-disk")
    assert "row-fail" in (failed.get_attribute("class") or "")
    assert "GAGAL" in failed.inner_text()
    bg = failed.evaluate("e => getComputedStyle(e.querySelector('td')).backgroundColor")
    ok_bg = page.locator("tr.row-pass td").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert bg != ok_bg, "failed rows look like passed rows"


# --- 6. the demo's agents -----------------------------------------------------------------
def test_the_demo_has_one_agent_of_each_role_who_can_log_in(
    cfg: KioskConfig, shared_dir: Path, chromium: Any
) -> None:
    """Through the real composed kiosk: the README's demo agents log in with their PIN and a
    real face match on the replay camera (their own other photos)."""
    from kiosk.agents.demo import DEMO_AGENTS

    with served_kiosk(chromium, cfg, "i15-demo-agents-") as (kiosk, c):
        page = c.page
        assert {a.role for a in kiosk.agents.accounts.all()} >= {"pkh", "tksk", "dasa_wisma"}
        for demo in DEMO_AGENTS:
            browser_agent_login(page, c, demo.name, demo.pin)
            if demo.role == "dasa_wisma":
                c.screen("home-dasa-wisma")
                assert page.locator("#roster-link").count() == 1
            assert demo.name in page.inner_text("main")
            page.click("#logout")
            page.wait_for_url(c.base + "/")
