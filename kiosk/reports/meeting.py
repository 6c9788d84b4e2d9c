"""The village meeting report (musyawarah desa): counts only, as receipt lines or a PDF.

Built from :class:`kiosk.core.tally.Totals` (no name, NIK or record id exists there); the words
come translated from the caller (``words(key)``), so this module knows no language.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.core.tally import NEEDS, VERIFICATIONS, Totals

Words = Callable[[str], str]
"""Label key -> text in the reader's language (keys: see :data:`KEYS`)."""

KEYS: tuple[str, ...] = (
    "title",
    "village",
    "period",
    "made",
    "registrations",
    "section:dusun",
    "section:needs",
    "section:verification",
    "section:community",
    "total",
    "registration",
    "registration_update",
    "dusun:unknown",
    *(f"need:{n}" for n in NEEDS),
    *(f"verification:{v}" for v in VERIFICATIONS),
    "record:objection",
    "recipient_report",
    "proposal",
    "footer",
)
"""Every label a report needs."""


@dataclass(frozen=True)
class Section:
    """A heading and its (label, figure) rows."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MeetingReport:
    """A whole report, already in words."""

    title: str
    header: tuple[str, ...]
    sections: tuple[Section, ...]
    footer: str


def build(totals: Totals, words: Words, *, village: str, made_at: dt.datetime) -> MeetingReport:
    """The report of ``totals`` for ``village`` (a name or code), made at ``made_at``."""
    period = f"{totals.first:%d-%m-%Y} - {totals.last:%d-%m-%Y}"
    header = (
        f"{words('village')}: {village}",
        f"{words('period')}: {period}",
        f"{words('made')}: {made_at:%d-%m-%Y %H:%M}",
    )
    overall = Section(
        words("registrations"),
        (
            (words("registration"), str(totals.total("registration"))),
            (words("registration_update"), str(totals.total("registration_update"))),
        ),
    )
    by_dusun: list[tuple[str, str]] = []
    for d in totals.dusun_names():
        by_dusun.append((d or words("dusun:unknown"), str(totals.get("registration", d))))
        by_dusun += [
            (f"  {words(f'need:{c}')}", str(totals.get(f"need:{c}", d)))
            for c in NEEDS
            if totals.get(f"need:{c}", d)
        ]
    needs_rows = tuple((words(f"need:{c}"), str(totals.total(f"need:{c}"))) for c in NEEDS)
    verification = tuple(
        (words(f"verification:{v}"), str(totals.total(f"verification:{v}"))) for v in VERIFICATIONS
    )
    community = tuple(
        (words(k), str(totals.total(k)))
        for k in ("record:objection", "recipient_report", "proposal")
    )
    sections = (
        overall,
        Section(words("section:dusun"), tuple(by_dusun) or ((words("total"), "0"),)),
        Section(words("section:needs"), needs_rows),
        Section(words("section:verification"), verification),
        Section(words("section:community"), community),
    )
    return MeetingReport(words("title"), header, sections, words("footer"))


def receipt_lines(report: MeetingReport, width: int = 32) -> list[str]:
    """The report as lines of at most ``width`` characters for the receipt printer."""
    out: list[str] = []
    for line in report.header:
        out += textwrap.wrap(line, width)
    out.append("")
    for s in report.sections:
        out += [*textwrap.wrap(s.title.upper(), width), "-" * width]
        for label, figure in s.rows:
            if len(label) + len(figure) < width:
                out.append(label + figure.rjust(width - len(label)))
            else:
                out += textwrap.wrap(label, width)
                out += [part.rjust(width) for part in textwrap.wrap(figure, width)]
        out.append("")
    out += textwrap.wrap(report.footer, width)
    return out


def _latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1 only: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(report: MeetingReport) -> bytes:
    """The report as a one-or-more-page A4 PDF (fpdf2, core font: nothing to download)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin1(report.title))
    pdf.set_creator("Kios Perlinsos")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin1(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for line in report.header:
        pdf.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    for s in report.sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(s.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for label, figure in s.rows:
            pdf.cell(120, 6, _latin1(label), border="B")
            pdf.cell(0, 6, _latin1(figure), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, _latin1(report.footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
