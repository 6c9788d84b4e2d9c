"""The village meeting report (musyawarah desa): choose the dates, see the figures, print them
or save them as a PDF on the USB stick. Counts only: no name, no NIK."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from kiosk.agents.service import AgentSession
from kiosk.errors import FormError, HardwareError, StickError
from kiosk.reports import meeting as report
from kiosk.reports.stick import report_name, save_pdf
from ui.agent import bp
from ui.agent.common import logged_in
from ui.agent.community import community
from ui.usb.views import STICK_ERRORS
from ui.villager.common import svc

log = logging.getLogger(__name__)

WORDS: dict[str, LazyString] = {
    "title": _l("Village meeting report (musyawarah desa)"),
    "village": _l("Village"),
    "period": _l("Period"),
    "made": _l("Made"),
    "registrations": _l("Registrations"),
    "section:dusun": _l("Registrations by dusun (with the help asked for)"),
    "section:needs": _l("Help asked for"),
    "section:verification": _l("Identity check"),
    "section:community": _l("Objections, reports and proposals"),
    "total": _l("Total"),
    "registration": _l("New registrations"),
    "registration_update": _l("Updates of a registration"),
    "dusun:unknown": _l("Dusun not recorded"),
    "need:pkh": _l("PKH"),
    "need:bpnt": _l("BPNT / Sembako"),
    "need:pbi_jk": _l("PBI JK (health insurance)"),
    "need:pip": _l("PIP (school)"),
    "need:blt_dd": _l("BLT Dana Desa"),
    "verification:verified": _l("Face verified"),
    "verification:pending": _l("Waiting for the office to check the face"),
    "verification:vouched": _l("Vouched for by an agent"),
    "verification:unverified": _l("Not verified"),
    "record:objection": _l("Objections (sanggah) filed"),
    "recipient_report": _l("Reports: a listed household is not eligible"),
    "proposal": _l("Proposals (usulan) of households"),
    "footer": _l(
        "Counts from this kiosk only; no names or NIKs. Objections, reports and proposals"
        " are decided by the office."
    ),
}
"""Every label of the report (kiosk.reports.meeting.KEYS), translated."""

assert set(WORDS) == set(report.KEYS)

MAX_DATE_TEXT = 10


@dataclass(frozen=True)
class Chosen:
    """The dates asked for, and the report of them or why there is none."""

    first: dt.date
    last: dt.date
    report: report.MeetingReport | None
    error: str | None


def _date(name: str, default: dt.date) -> dt.date | None:
    text = request.values.get(name, "")[:MAX_DATE_TEXT]
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _chosen(current: AgentSession) -> Chosen:
    """The report of the dates in the request (default: this month up to today)."""
    today = community().today()
    first, last = _date("first", today.replace(day=1)), _date("last", today)
    if first is None or last is None:
        error = _("Choose the dates again: a date is not valid.")
        return Chosen(first or today, last or today, None, error)
    try:
        totals = community().totals(current.token, first, last)
    except FormError:
        error = (
            _("The end date is before the start date.")
            if last < first
            else _("Choose at most one year.")
        )
        return Chosen(first, last, None, error)
    cfg = svc().cfg.device
    built = report.build(
        totals,
        lambda key: str(WORDS[key]),
        village=f"{cfg.name} ({cfg.village_code})",
        made_at=community().made_at(),
    )
    return Chosen(first, last, built, None)


def _page(chosen: Chosen, message: str | None = None, error: str | None = None) -> Any:
    error = error or chosen.error
    status = 422 if chosen.error else (503 if error else 200)
    return (
        render_template(
            "agent/meeting.html",
            first=chosen.first.isoformat(),
            last=chosen.last.isoformat(),
            report=chosen.report,
            message=message,
            error=error,
            can_print=svc().printer is not None,
            can_export=svc().extra.get("usb") is not None,
        ),
        status,
    )


@bp.get("/meeting")
@logged_in
def meeting(current: AgentSession) -> Any:
    """Dates (this month so far by default) and the figures on screen."""
    return _page(_chosen(current))


@bp.post("/meeting/print")
@logged_in
def meeting_print(current: AgentSession) -> Any:
    """Print the figures on the receipt printer."""
    chosen, printer = _chosen(current), svc().printer
    if printer is None:
        abort(404)
    if chosen.report is None:
        return _page(chosen)
    try:
        printer.print_document(chosen.report.title, report.receipt_lines(chosen.report))
    except HardwareError as err:
        log.warning("meeting report not printed: %s", err)
        return _page(chosen, error=_("The printer did not print. Check its paper and cable."))
    community().audit_report(current.token, "print")
    return _page(chosen, message=_("The report was printed. Take it from the printer."))


@bp.post("/meeting/pdf")
@logged_in
def meeting_pdf(current: AgentSession) -> Any:
    """Save the figures as a PDF on the USB stick."""
    chosen, usb = _chosen(current), svc().extra.get("usb")
    if usb is None:
        abort(404)
    if chosen.report is None:
        return _page(chosen)
    name = report_name(svc().cfg.device.village_code, chosen.first, chosen.last)
    try:
        save_pdf(usb.config, name, report.render_pdf(chosen.report))
    except StickError as err:
        return _page(chosen, error=str(STICK_ERRORS.get(err.code, STICK_ERRORS["io"])))
    community().audit_report(current.token, "pdf")
    message = _("The report was saved on the USB stick as %(name)s.", name=name)
    return _page(chosen, message=message)
