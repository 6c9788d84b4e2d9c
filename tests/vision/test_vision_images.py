"""Bad and odd images: empty, truncated, huge, grey, CMYK, EXIF-rotated, wrong arrays."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.config import REPO_ROOT
from kiosk.errors import ImageError
from kiosk.vision.images import check_image, decode_image, load_image
from kiosk.vision.pipeline import FacePipeline

IDENTITIES = REPO_ROOT.parent / "shared" / "faces" / "identities"


def _jpeg(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot read"):
        load_image(tmp_path / "nope.jpg")


def test_not_an_image() -> None:
    with pytest.raises(ImageError, match="not a readable image"):
        decode_image(b"hello, this is text" * 10, "x.jpg")


def test_truncated_jpeg() -> None:
    data = (IDENTITIES / "p03" / "img8.jpg").read_bytes()
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 3], "cut.jpg")


def _png_with_size(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def test_huge_image_refused_before_decoding() -> None:
    with pytest.raises(ImageError, match="too large"):
        decode_image(_png_with_size(50_000, 40_000), "huge.png")


def test_greyscale_becomes_rgb() -> None:
    out = decode_image(_jpeg(Image.new("L", (64, 48), 128)))
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8


def test_cmyk_becomes_rgb() -> None:
    out = decode_image(_jpeg(Image.new("CMYK", (64, 48), (0, 255, 255, 0))))
    assert out.shape == (48, 64, 3)
    r, g, b = out[24, 32].astype(int)
    assert r > 200 and g < 80 and b < 80  # CMYK red stays red


def test_exif_rotation_is_applied(pipeline: FacePipeline) -> None:
    upright = Image.open(IDENTITIES / "p03" / "img8.jpg").convert("RGB")
    stored = upright.rotate(90, expand=True)  # as a phone would store it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = decode_image(_jpeg(stored, exif=exif))
    assert out.shape[:2] == (upright.height, upright.width)
    assert pipeline.analyze(out).usable


def test_check_image_converts_or_refuses() -> None:
    assert check_image(np.zeros((40, 50), np.uint8)).shape == (40, 50, 3)
    assert check_image(np.zeros((40, 50, 4), np.uint8)).shape == (40, 50, 3)
    with pytest.raises(ImageError, match="uint8"):
        check_image(np.zeros((40, 50, 3), np.float32))
    with pytest.raises(ImageError, match="HxWx3"):
        check_image(np.zeros((40, 50, 2), np.uint8))
    with pytest.raises(ImageError, match="too small"):
        check_image(np.zeros((10, 50, 3), np.uint8))
    with pytest.raises(ImageError, match="numpy array"):
        check_image([[1, 2, 3]])  # type: ignore[arg-type]


def test_jpeg_draft_decode_covers_the_requested_size() -> None:
    big = Image.new("RGB", (2000, 1500), (90, 120, 150))
    out = decode_image(_jpeg(big), fit=(640, 480))
    assert 640 <= out.shape[1] < 2000 and 480 <= out.shape[0] < 1500
