"""Receipt printers, the adapters of :class:`kiosk.services.ports.ReceiptPrinter`: the ESC/POS
thermal printer (``escpos``) and, beside it, the fake that appends the same bytes to a file
(``fake``). Chosen by ``ui.printer_backend`` through ``kiosk.backends.PRINTERS``."""

from __future__ import annotations

from pathlib import Path

from kiosk.backends import PRINTERS
from kiosk.services.ports import ReceiptPrinter


def open_printer(backend: str, device: Path | None) -> ReceiptPrinter | None:
    """The ``backend`` printer (a row of ``kiosk.backends.PRINTERS``) on ``device``; None when
    no printer is configured."""
    if device is None:
        return None
    printer: ReceiptPrinter = PRINTERS.get(backend).load()(device)
    return printer
