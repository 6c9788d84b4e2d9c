"""Issue 17 items 2 and 5 in headless Chromium at 800x480, in Indonesian: the recipient list
(paged, by dusun), reporting a listed household, proposing a neighbour from the Dasa Wisma
roster (and a proposal flood refused aloud), and the village meeting report printed and saved
as a PDF on the USB stick. Every screen is screenshotted, axe-checked and must fit."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agent_doubles import DW_PIN, PIN
from browser import KioskRun, agent_login, kiosk_run, page_fits
from community_doubles import REPORTER_NIK, Community, attach_community
from pypdf import PdfReader
from usb_doubles import Usb, attach_usb

from kiosk.config import KioskConfig
from kiosk.core.ids import uuid7
from kiosk.core.tally import registration_counts
from kiosk.store.outbox import OutboxRepository
from tests.fixtures.community import elder_household

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Run(KioskRun):
    community: Community
    usb: Usb


@pytest.fixture
def run(
    cfg: KioskConfig, tmp_path: Path, chromium: Any, request: pytest.FixtureRequest
) -> Iterator[Run]:
    prefix = f"community-{request.node.originalname.removeprefix('test_')}-"
    with kiosk_run(chromium, cfg, tmp_path, prefix, timeout_ms=10_000, speech=False) as k:
        community = attach_community(k.kit, k.agents, cfg.device.village_code)
        yield Run(**vars(k), community=community, usb=attach_usb(k.kit, tmp_path))


fits = page_fits


def login(r: Run, name: str = "Bu Rina", pin: str = PIN) -> None:
    agent_login(r.page, r.c, name, pin)


def test_report_a_listed_household(run: Run) -> None:
    r, page = run, run.page
    login(r)
    r.c.screen("agent-home")  # the two new buttons still fit the agent's home
    fits(page)
    page.click("#recipients-link")
    page.wait_for_url("**/agent/recipients")
    assert page.locator(".recipient-list").count() == 0  # nothing from the portal yet
    r.c.screen("no-list")
    r.community.publish()
    page.reload()
    assert page.locator(".recipient-list .row").count() == 4
    assert "Penerima bantuan di desa ini" in page.inner_text("h1")
    assert "Halaman 1 dari 4, 14 keluarga" in page.inner_text("#page-info")
    r.c.screen("list")
    fits(page)
    page.click(".dusun-filter a:has-text('Sumberejo')")
    page.wait_for_url("**dusun=Sumberejo**")
    assert re.search(r"1\D+2\D+5", page.inner_text("#page-info"))  # page 1 of 2, 5 households
    page.click("#page-next")
    page.wait_for_url("**page=2**")
    assert page.inner_text(".recipient-list").count("Bapak Penerima") == 1
    r.c.screen("list-sumberejo-2")
    fits(page)
    page.click("#report-H0007")
    page.wait_for_url("**/recipients/H0007/report")
    r.c.screen("report")
    fits(page)
    page.click("#report-submit")  # no reason chosen
    page.wait_for_selector("#form-error")
    assert page.get_attribute("input[name=reason] >> nth=0", "aria-invalid") == "true"
    assert "Pilih satu alasan" in page.inner_text("#form-error")
    r.c.screen("report-no-reason")
    page.locator("label.option", has_text=re.compile("Pindah|Moved")).click()
    page.fill("#note", f"NIK-nya {REPORTER_NIK}")
    page.click("#report-submit")
    page.wait_for_selector("#form-error")
    assert page.get_attribute("#note", "aria-invalid") == "true"
    assert "Jangan menulis NIK" in page.inner_text("#form-error")
    assert r.agents.outbox("recipient_report") == []
    page.fill("#note", "Sudah pindah ke Surabaya sejak Lebaran")
    page.fill("#reporter_nik", REPORTER_NIK)
    page.click("#report-submit")
    page.wait_for_selector("#sent-notice")
    assert "Laporan Anda sudah disimpan" in page.inner_text("#sent-notice")
    r.c.screen("report-sent")
    [record] = r.agents.outbox("recipient_report")
    assert record["household_ref"] == "H0007" and record["reason"] == "moved"
    assert record["reporter"] == {"nik": REPORTER_NIK, "agent_id": "AG-PKH-01"}
    kinds = [e.kind for e in r.agents.svc.audit.entries()]
    assert kinds[-1] == "recipient_report"


def roster_neighbour(r: Run) -> str:
    token = r.agents.svc.login("AG-DW-01", DW_PIN)
    saved = r.agents.svc.save_household(
        token, elder_household("3510011203150001", "RT 02, dekat langgar")
    )
    r.agents.svc.logout(token)
    return saved.household_id


def test_propose_a_neighbour_from_the_roster_and_a_flood_is_refused(run: Run) -> None:
    r, page = run, run.page
    r.community.publish()
    hid = roster_neighbour(r)
    login(r, "Bu Sri", DW_PIN)
    r.c.screen("cadre-home")  # a cadre has "My households" too: all still fit
    fits(page)
    page.click("#recipients-link")
    page.click("#propose-link")
    page.wait_for_url("**/agent/propose")
    assert page.is_checked(f"input[name=roster_household][value='{hid}']")
    r.c.screen("propose")
    fits(page)
    page.select_option("#dusun", "Tegalsari")
    page.fill("#rt", "2")
    page.click("#propose-submit")  # no reason
    page.wait_for_selector("#form-error")
    r.c.screen("propose-no-reason")
    page.locator("label.option", has_text=re.compile("Terbaring|Bedridden")).click()
    page.locator("label.option", has_text=re.compile("Lansia|Elderly")).click()
    page.fill("#reporter_nik", REPORTER_NIK)
    page.click("#propose-submit")
    page.wait_for_selector("#sent-notice")
    [record] = r.agents.outbox("proposal")
    assert record["roster_household_id"] == hid
    assert (
        record["household"]["name"] == "Mbah Karto" and record["household"]["dusun"] == "Tegalsari"
    )
    assert record["reasons"] == ["bedridden", "elderly_alone"]
    assert record["reporter"] == {"nik": REPORTER_NIK, "agent_id": "AG-DW-01"}
    for name in ("Mbok Sarinah", "Pak Darmo"):  # two more from the same villager
        page.goto(r.c.base + "/agent/propose")
        page.check("input[name=roster_household][value=other]", force=True)
        page.fill("#name", name)
        page.select_option("#dusun", "Krajan")
        page.fill("#rt", "1")
        page.locator("label.option", has_text=re.compile("bencana|disaster")).click()
        page.fill("#reporter_nik", REPORTER_NIK)
        page.click("#propose-submit")
        page.wait_for_selector("#sent-notice")
    page.goto(r.c.base + "/agent/propose")
    page.check("input[name=roster_household][value=other]", force=True)
    page.fill("#name", "Bu Tumini")
    page.select_option("#dusun", "Krajan")
    page.fill("#rt", "1")
    page.locator("label.option", has_text=re.compile("bencana|disaster")).click()
    page.fill("#reporter_nik", REPORTER_NIK)
    page.click("#propose-submit")
    page.wait_for_selector("#form-error")
    refusal = page.inner_text("#form-error")
    assert "sudah mengirim banyak laporan" in refusal and "60 menit" in refusal
    r.c.screen("propose-flood-refused")
    assert len(r.agents.outbox("proposal")) == 3
    assert page.input_value("#name") == "Bu Tumini"  # nothing typed is lost


def seed(r: Run) -> dt.date:
    outbox = OutboxRepository(r.agents.svc.audit._conn)
    rows = [
        ("Krajan", "verified", ["pkh", "bpnt"]),
        ("Krajan", "vouched", ["pkh"]),
        ("Sumberejo", "pending", ["pip"]),
    ]
    now = r.kit.clock.now()
    for dusun, verification, needs in rows:
        outbox.enqueue(
            uuid7(now, os.urandom(10)),
            "registration",
            b"sealed",
            now,
            counts=registration_counts(
                {"dusun": dusun, "programmes_requested": needs}, verification, 1
            ),
        )
    return dt.datetime.fromtimestamp(now, tz=dt.UTC).date()


def test_the_meeting_report_screen_print_and_pdf(run: Run) -> None:
    r, page = run, run.page
    r.community.publish()
    day = seed(r)
    login(r)
    page.click("#meeting-link")
    page.wait_for_url("**/agent/meeting")
    r.c.screen("meeting-empty")
    fits(page)
    page.fill("#first", (day - dt.timedelta(days=3)).isoformat())
    page.fill("#last", day.isoformat())
    page.click("#meeting-show")
    page.wait_for_selector("#meeting-figures")
    figures = page.inner_text("#meeting-figures")
    assert re.search(r"Krajan\s+2", figures) and re.search(r"Sumberejo\s+1", figures)
    assert re.search(r"Pendaftaran baru\s+3", figures)
    assert re.search(r"Dijamin oleh petugas\s+1", figures)
    r.c.screen("meeting-figures")
    fits(page)
    page.click("#meeting-print")
    page.wait_for_selector("#meeting-message")
    printed = r.kit.printer_file.read_bytes().decode("ascii", "replace")
    assert re.search(r"Krajan +2", printed) and re.search(r"Pendaftaran baru +3", printed)
    r.c.screen("meeting-printed")
    page.click("#meeting-pdf")
    page.wait_for_selector("#meeting-message")
    r.c.screen("meeting-pdf-saved")
    [pdf] = list((r.usb.stick / "perlinsos" / "laporan").glob("musdes-*.pdf"))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert re.search(r"Krajan\s*2", text) and re.search(r"Sumberejo\s*1", text)
    assert "Laporan musyawarah desa" in text and re.search(r"Usulan keluarga\s*0", text)
    assert not re.search(r"\d{16}", text)
    assert "Penerima" not in text and "Rina" not in text
    kinds = [e.kind for e in r.agents.svc.audit.entries()]
    assert kinds.count("meeting_report") == 2
    # a stick pulled out: said, not a crash
    for p in sorted(r.usb.stick.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    r.usb.stick.rmdir()
    page.click("#meeting-pdf")
    page.wait_for_selector("#meeting-error")
    assert "flashdisk" in page.inner_text("#meeting-error").lower()
    r.c.screen("meeting-no-stick")
