"""Decoding and checking images: every odd input becomes an RGB uint8 array or an ImageError."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kiosk.errors import ImageError

MAX_PIXELS = 40_000_000
"""Largest image accepted, pixels (a 40 MP photo); bigger is refused before decoding."""

MIN_SIDE = 32
"""Smallest accepted side, pixels."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def decode_image(
    data: bytes, name: str = "image", fit: tuple[int, int] | None = None
) -> np.ndarray:
    """Decode image bytes to HxWx3 uint8 RGB, applying the EXIF orientation.

    ``fit`` (width, height in pixels) lets a JPEG decode at a reduced scale that still covers
    that size (saves time and memory when the caller will shrink the image anyway).
    """
    if not data:
        raise ImageError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as src:
                w, h = src.size
                if w * h > MAX_PIXELS:
                    raise ImageError(f"{name}: {w}x{h} is too large (limit {MAX_PIXELS} pixels)")
                if fit is not None:
                    side = max(fit)
                    src.draft("RGB", (side, side))
                src.load()
                rgb = ImageOps.exif_transpose(src).convert("RGB")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"{name}: too large to decode safely (limit {MAX_PIXELS} pixels)") from err
    except UnidentifiedImageError as err:
        raise ImageError(f"{name}: not a readable image") from err
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageError(f"{name}: truncated or corrupt image ({err})") from err
    return check_image(np.asarray(rgb), name)


def load_image(path: Path, fit: tuple[int, int] | None = None) -> np.ndarray:
    """Read and decode an image file (see :func:`decode_image`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ImageError(f"{Path(path).name}: cannot read ({err.strerror})") from err
    return decode_image(data, Path(path).name, fit)


def check_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Validate an in-memory frame; grey or RGBA becomes RGB; anything else is an ImageError."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"{name}: expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    elif image.ndim == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"{name}: expected HxWx3 RGB, got shape {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageError(f"{name}: {w}x{h} is too small (sides of at least {MIN_SIDE} px)")
    if h * w > MAX_PIXELS:
        raise ImageError(f"{name}: {w}x{h} is too large (limit {MAX_PIXELS} pixels)")
    return np.ascontiguousarray(image)


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
