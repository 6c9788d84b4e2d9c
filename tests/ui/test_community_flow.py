"""The recipient, report, proposal and meeting screens through Flask's test client: bad input
is refused with words (never a 500) and nothing typed is lost; absent parts stay absent."""

from __future__ import annotations

from pathlib import Path

from agent_doubles import Agents, attach_agents
from community_doubles import REPORTER_NIK, attach_community
from flask.testing import FlaskClient
from test_agent_flow import login
from test_ui_flow import post
from ui_kit import Kit

from kiosk.config import KioskConfig
from kiosk.errors import HardwareError
from kiosk.reports.service import MAX_NOTE
from ui import services


def logged_in(kit: Kit, tmp_path: Path, cfg: KioskConfig) -> tuple[Agents, FlaskClient]:
    """The community screens over the portal's published list, an agent logged in."""
    agents = attach_agents(kit, tmp_path)
    attach_community(kit, agents, cfg.device.village_code).publish()
    c = kit.app.test_client()
    login(c)
    return agents, c


def test_the_screens_are_absent_without_the_service(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    login(c)
    assert "/agent/recipients" not in c.get("/agent/home").get_data(as_text=True)
    assert c.get("/agent/recipients").status_code == 404
    assert c.get("/agent/meeting").status_code == 404


def test_screens_need_a_logged_in_agent(kit: Kit, tmp_path: Path, cfg: KioskConfig) -> None:
    agents = attach_agents(kit, tmp_path)
    attach_community(kit, agents, cfg.device.village_code).publish()
    c = kit.app.test_client()
    for url in ("/agent/recipients", "/agent/propose", "/agent/meeting"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/agent/login")


def test_an_over_long_note_and_a_bad_nik_are_refused_aloud(
    kit: Kit, tmp_path: Path, cfg: KioskConfig
) -> None:
    agents, c = logged_in(kit, tmp_path, cfg)
    r = post(c, "/agent/recipients/H0001/report", reason="moved", note="a" * (MAX_NOTE + 1))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Catatan terlalu panjang: paling banyak 280 huruf" in html
    assert 'id="note" name="note"' in html and "a" * MAX_NOTE in html  # the note is kept
    r = post(c, "/agent/recipients/H0001/report", reason="moved", reporter_nik="12345")
    assert r.status_code == 422 and "NIK pelapor tidak benar" in r.get_data(as_text=True)
    r = post(c, "/agent/recipients/NOPE/report", reason="moved")
    assert r.status_code == 302  # back to the list: the household is gone from it
    assert agents.outbox("recipient_report") == []
    r = post(c, "/agent/recipients/H0001/report", reason="moved", reporter_nik=REPORTER_NIK)
    assert r.status_code == 302 and "sent=report" in r.headers["Location"]
    assert len(agents.outbox("recipient_report")) == 1


def test_a_proposal_with_a_foreign_roster_household_is_refused(
    kit: Kit, tmp_path: Path, cfg: KioskConfig
) -> None:
    agents, c = logged_in(kit, tmp_path, cfg)
    r = post(
        c,
        "/agent/propose",
        roster_household="someone-elses",
        reason="bedridden",
        dusun="Krajan",
        rt="1",
    )
    assert r.status_code == 422 and "keluarga dampingan Anda" in r.get_data(as_text=True)
    assert agents.outbox("proposal") == []


class BrokenPrinter:
    def print_receipt(self, receipt: object) -> None:
        raise HardwareError("paper out")

    def print_document(self, title: str, lines: list[str]) -> None:
        raise HardwareError("paper out")


def test_meeting_report_bad_dates_and_a_broken_printer(
    kit: Kit, tmp_path: Path, cfg: KioskConfig
) -> None:
    agents = attach_agents(kit, tmp_path)
    attach_community(kit, agents, cfg.device.village_code)
    c = kit.app.test_client()
    login(c)
    r = c.get("/agent/meeting?first=2026-05-30&last=2026-05-01")
    assert r.status_code == 422 and "Tanggal akhir sebelum tanggal awal" in r.get_data(as_text=True)
    r = c.get("/agent/meeting?first=2025-01-01&last=2026-05-01")
    assert r.status_code == 422 and "paling lama satu tahun" in r.get_data(as_text=True)
    r = c.get("/agent/meeting?first=kemarin")
    assert r.status_code == 422 and "tanggal yang tidak benar" in r.get_data(as_text=True)
    services(kit.app).printer = BrokenPrinter()  # type: ignore[assignment]
    r = post(c, "/agent/meeting/print", first="2026-05-01", last="2026-05-30")
    assert r.status_code == 503 and "Printer tidak mencetak" in r.get_data(as_text=True)
    assert [e.kind for e in agents.svc.audit.entries()].count("meeting_report") == 0
    assert post(c, "/agent/meeting/pdf").status_code == 404  # no USB screen wired
