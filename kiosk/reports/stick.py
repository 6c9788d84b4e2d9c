"""Put the meeting report's PDF on the USB stick: checked, atomic, errors as StickError codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk.config import UsbConfig
from kiosk.usb.export import check_stick, stick_error, write_atomic
from kiosk.usb.layout import ROOT

REPORTS = "laporan"
"""Folder under ``<stick>/perlinsos/`` that holds the meeting reports."""


def report_name(village_code: str, first: dt.date, last: dt.date) -> str:
    """File name of the report for a village and date range."""
    return f"musdes-{village_code}-{first:%Y%m%d}-{last:%Y%m%d}.pdf"


def save_pdf(cfg: UsbConfig, name: str, data: bytes) -> Path:
    """Write ``data`` as ``<stick>/perlinsos/laporan/<name>``; StickError (missing, read_only,
    full, io) when the stick cannot take it. A file of the same name is replaced whole."""
    stick = check_stick(cfg.mount_point, require_mount=cfg.require_mount)
    folder = stick / ROOT / REPORTS
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as err:
        raise stick_error(err, path) from err
    return path
