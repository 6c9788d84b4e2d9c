"""Write a transparent Xcursor theme so the kiosk's touch screen never shows a pointer.

cage (wlroots) draws the theme named by ``XCURSOR_THEME``; the image build runs
``python3 firmware/cursor.py <root>/usr/share/icons/kiosk-none`` (stdlib only) and
kiosk-browser.service sets ``XCURSOR_THEME=kiosk-none``. Format: libXcursor's file layout,
little-endian.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

MAGIC = b"Xcur"
IMAGE_TYPE = 0xFFFD0002
HEADER_SIZE = 16
TOC_ENTRY_SIZE = 12
IMAGE_HEADER_SIZE = 36

CURSOR_NAMES: tuple[str, ...] = (
    "default", "left_ptr", "pointer", "hand1", "hand2", "text", "xterm", "crosshair",
    "wait", "watch", "progress", "left_ptr_watch", "grab", "grabbing", "move", "fleur",
    "not-allowed", "help", "col-resize", "row-resize", "all-scroll",
)  # fmt: skip
"""Cursor names browsers and wlroots ask for; all point at the one transparent image."""


def blank_cursor(size: int = 1) -> bytes:
    """One Xcursor file holding a single fully transparent ``size`` x ``size`` image."""
    if not 1 <= size <= 256:
        raise ValueError("cursor size must be 1..256 pixels")
    header = struct.pack("<4sIII", MAGIC, HEADER_SIZE, 0x10000, 1)
    image_pos = HEADER_SIZE + TOC_ENTRY_SIZE
    toc = struct.pack("<III", IMAGE_TYPE, size, image_pos)
    image = struct.pack("<IIIIIIIII", IMAGE_HEADER_SIZE, IMAGE_TYPE, size, 1, size, size, 0, 0, 0)
    pixels = b"\0\0\0\0" * (size * size)  # ARGB 0: fully transparent
    return header + toc + image + pixels


def write_theme(directory: Path, name: str = "kiosk-none") -> None:
    """Create ``directory`` as an icon theme whose every cursor is invisible."""
    cursors = directory / "cursors"
    cursors.mkdir(parents=True, exist_ok=True)
    (directory / "index.theme").write_text(
        f"[Icon Theme]\nName={name}\nComment=Invisible cursor for the touch-screen kiosk\n"
    )
    data = blank_cursor()
    for cursor in CURSOR_NAMES:
        (cursors / cursor).write_bytes(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m firmware.cursor THEME_DIRECTORY")
    write_theme(Path(sys.argv[1]))
