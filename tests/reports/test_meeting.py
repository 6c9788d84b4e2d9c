"""The village meeting report: tallies written with their record and kept after the purge,
figures in the printed lines and in the PDF's text, no NIK and no name anywhere."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_helpers import NIK, Kit, signed_list

from kiosk.config import UsbConfig
from kiosk.core.ids import uuid7
from kiosk.core.tally import registration_counts
from kiosk.errors import HardwareError, StickError, StoreError
from kiosk.reports import meeting
from kiosk.reports.service import Reporter
from kiosk.reports.stick import report_name, save_pdf
from kiosk.store import tally
from kiosk.store.outbox import OutboxRepository

DAY = 86400.0


def words(key: str) -> str:
    return f"<{key}>"


def register(kit: Kit, dusun: str, verification: str, needs: list[str], version: int = 1) -> None:
    outbox = OutboxRepository(kit.conn)
    rid = uuid7(kit.clock.now(), os.urandom(10))
    outbox.enqueue(
        rid,
        "registration",
        b"sealed",
        kit.clock.now(),
        counts=registration_counts(
            {"dusun": dusun, "programmes_requested": needs}, verification, version
        ),
    )


def test_the_counts_outlive_the_purge_of_acked_records(kit: Kit) -> None:
    register(kit, "Krajan", "verified", ["pkh", "bpnt"])
    register(kit, "Krajan", "vouched", ["pkh"])
    register(kit, "Sumberejo", "pending", [])
    register(kit, "Krajan", "verified", ["pkh"], version=2)  # an update is not a new household
    outbox = OutboxRepository(kit.conn)
    ids = [r[0] for r in kit.conn.execute("SELECT record_id FROM outbox")]
    outbox.mark_acked(ids, kit.clock.now())
    kit.clock.advance(40 * DAY)
    assert outbox.purge_acked(kit.clock.now() - 30 * DAY) == 4
    assert kit.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    today = dt.datetime.fromtimestamp(kit.clock.now(), tz=dt.UTC).date()
    t = tally.totals(kit.conn, today - dt.timedelta(days=41), today)
    assert t.get("registration", "Krajan") == 2 and t.get("registration", "Sumberejo") == 1
    assert t.total("registration_update") == 1
    assert t.get("need:pkh", "Krajan") == 2 and t.total("need:bpnt") == 1
    assert [t.total(f"verification:{v}") for v in ("verified", "pending", "vouched")] == [1, 1, 1]
    assert t.dusun_names() == ["Krajan", "Sumberejo"]
    # a range that ends before those days holds none of them
    assert (
        tally.totals(kit.conn, today - dt.timedelta(days=400), today - dt.timedelta(days=41)).total(
            "registration"
        )
        == 0
    )


def test_a_rolled_back_record_adds_no_count(kit: Kit) -> None:
    outbox = OutboxRepository(kit.conn)
    outbox.enqueue("r1", "registration", b"x", kit.clock.now())
    with pytest.raises(StoreError, match="UNIQUE"):
        outbox.enqueue(
            "r1",
            "registration",
            b"x",
            kit.clock.now(),
            counts=registration_counts({}, "verified", 1),
        )
    today = dt.datetime.fromtimestamp(kit.clock.now(), tz=dt.UTC).date()
    t = tally.totals(kit.conn, today, today)
    assert t.total("record:registration") == 1 and t.total("registration") == 0


def report_of(kit: Kit) -> meeting.MeetingReport:
    assert kit.inbox(signed_list(kit.key))
    register(kit, "Krajan", "verified", ["pkh", "bpnt"])
    register(kit, "Krajan", "verified", ["pkh"])
    register(kit, "Tegalsari", "vouched", ["pip"])
    token = kit.login()
    kit.svc.report(Reporter(token, NIK), ref="H0001", reason="deceased")
    kit.svc.propose(
        Reporter(token, NIK), reasons=["bedridden"], name="Mbah Sarinah", dusun="Krajan", rt="2"
    )
    today = dt.datetime.fromtimestamp(kit.clock.now(), tz=dt.UTC).date()
    totals = kit.svc.totals(token, today - dt.timedelta(days=30), today)
    return meeting.build(
        totals, words, village="Desa Sukamaju", made_at=dt.datetime(2026, 5, 29, 9, 30)
    )


def test_the_printed_lines_hold_the_figures_and_fit_the_paper(kit: Kit) -> None:
    lines = meeting.receipt_lines(report_of(kit))
    assert all(len(line) <= 32 for line in lines)
    text = "\n".join(lines)
    assert re.search(r"<registration> +3", text)
    assert re.search(r"<verification:verified> +2", text)
    assert re.search(r"<recipient_report> +1", text) and re.search(r"<proposal> +1", text)
    assert "Krajan" in text and "Sarinah" not in text and "Kepala" not in text


def test_the_pdf_text_holds_the_figures_and_no_nik_or_name(kit: Kit) -> None:
    pdf = meeting.render_pdf(report_of(kit))
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "<title>" in text and "Desa Sukamaju" in text
    assert re.search(r"<registration>\s*3", text)
    assert re.search(r"Krajan\s*2\s*<need:pkh>\s*2\s*<need:bpnt>\s*1\s*Tegalsari\s*1", text)
    assert re.search(r"<verification:vouched>\s*1", text)
    assert re.search(r"<proposal>\s*1", text)
    assert not re.search(r"\d{16}", text)
    assert "Sarinah" not in text and "Kepala" not in text and "Rina" not in text


def test_the_pdf_goes_to_the_stick_atomically_or_says_why_not(kit: Kit, tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    cfg = UsbConfig(mount_point=stick, require_mount=False)
    name = report_name("3510012001", dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    with pytest.raises(StickError) as err:
        save_pdf(cfg, name, b"%PDF-1")
    assert err.value.code == "missing"
    stick.mkdir()
    path = save_pdf(cfg, name, b"%PDF-1")
    assert path == stick / "perlinsos" / "laporan" / "musdes-3510012001-20260501-20260531.pdf"
    assert path.read_bytes() == b"%PDF-1" and not list(path.parent.glob(".*"))


def test_the_report_prints_as_plain_escpos_and_a_missing_printer_is_an_error(
    tmp_path: Path,
) -> None:
    from kiosk.printer.escpos import EscPosPrinter
    from kiosk.printer.fake import FilePrinter

    lines = ["Krajan                         2", "Désa"]
    FilePrinter(tmp_path / "out.bin").print_document("Laporan", lines)
    data = (tmp_path / "out.bin").read_bytes()
    assert data.startswith(b"\x1b@") and b"Krajan                         2\n" in data
    assert b"D?sa" in data  # thermal printers get ASCII only
    with pytest.raises(HardwareError):
        EscPosPrinter(tmp_path / "no-such-lp0").print_document("Laporan", lines)
