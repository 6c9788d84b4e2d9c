"""Receipt printing on an ESC/POS thermal printer (the fake beside it: ``kiosk.printer.fake``).

The receipt carries no personal data besides the registration number: the title, the number in
large type, the number as a QR code, the date and the kiosk's site.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kiosk.errors import HardwareError
from kiosk.services.ports import Receipt

log = logging.getLogger(__name__)

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
ALIGN_CENTER = ESC + b"a\x01"
ALIGN_LEFT = ESC + b"a\x00"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
DOUBLE_ON, DOUBLE_OFF = GS + b"!\x11", GS + b"!\x00"
FEED_CUT = ESC + b"d\x04" + GS + b"V\x42\x00"


def _text(s: str) -> bytes:
    """Printer text: ASCII only (thermal printers' code pages lack most of Unicode)."""
    return s.encode("ascii", "replace") + b"\n"


def _qr(data: str, module_size: int = 6) -> bytes:
    """ESC/POS (GS ( k) commands printing ``data`` as a QR code, error correction M."""
    payload = data.encode("ascii")
    store_len = len(payload) + 3
    return (
        GS
        + b"(k\x04\x00\x31\x41\x32\x00"  # model 2
        + GS
        + b"(k\x03\x00\x31\x43"
        + bytes([module_size])  # module size (dots)
        + GS
        + b"(k\x03\x00\x31\x45\x31"  # error correction M
        + GS
        + b"(k"
        + bytes([store_len % 256, store_len // 256])
        + b"\x31\x50\x30"
        + payload
        + GS
        + b"(k\x03\x00\x31\x51\x30"  # print the stored symbol
    )


def escpos_receipt(receipt: Receipt) -> bytes:
    """The ESC/POS byte stream for one receipt."""
    out = [INIT, ALIGN_CENTER, BOLD_ON, _text(receipt.title), BOLD_OFF, b"\n"]
    out += [_text(receipt.number_label), DOUBLE_ON, _text(receipt.number), DOUBLE_OFF, b"\n"]
    out += [_qr(receipt.number), b"\n", ALIGN_LEFT]
    out += [_text(line) for line in receipt.lines]
    out.append(FEED_CUT)
    return b"".join(out)


def escpos_document(title: str, lines: list[str]) -> bytes:
    """The ESC/POS byte stream for a plain document (the meeting report): title, lines, cut."""
    out = [INIT, ALIGN_CENTER, BOLD_ON, _text(title), BOLD_OFF, b"\n", ALIGN_LEFT]
    out += [_text(line) for line in lines]
    out.append(FEED_CUT)
    return b"".join(out)


class EscPosPrinter:
    """The :class:`~kiosk.services.ports.ReceiptPrinter` on a printer device node such as
    ``/dev/usb/lp0``; opened per receipt, never created."""

    def __init__(self, device: Path) -> None:
        self._device = device

    def print_receipt(self, receipt: Receipt) -> None:
        """Write the receipt's ESC/POS bytes to the device."""
        self._write(escpos_receipt(receipt))

    def print_document(self, title: str, lines: list[str]) -> None:
        """Write a plain document's ESC/POS bytes to the device."""
        self._write(escpos_document(title, lines))

    def _write(self, data: bytes) -> None:
        """Send ``data`` to the printer (the fake appends it to a file instead)."""
        try:
            fd = os.open(self._device, os.O_WRONLY | os.O_NOCTTY)
        except OSError as err:
            raise HardwareError(f"receipt printer {self._device}: {err.strerror}") from err
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as err:
            raise HardwareError(f"receipt printer {self._device}: {err.strerror}") from err
        finally:
            os.close(fd)
