"""The fake receipt printer: the same ESC/POS bytes, appended to a file (tests, demos)."""

from __future__ import annotations

from pathlib import Path

from kiosk.printer.escpos import EscPosPrinter


class FilePrinter(EscPosPrinter):
    """The :class:`~kiosk.services.ports.ReceiptPrinter` that appends to ``path`` what the
    real printer would be sent."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path = path

    def _write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(data)
