"""MobileFaceNet embeddings, cosine similarity, and template (de)serialisation and sealing."""

from __future__ import annotations

import numpy as np

from kiosk.crypto.atrest import AtRestCipher
from kiosk.errors import ImageError, ModelError
from kiosk.vision.align import ALIGNED_SIZE
from kiosk.vision.models import Model
from kiosk.vision.photometric import stretch_luma

EMBEDDING_DIM = 128
_MAGIC = b"KFT1"  # kiosk face template, version 1: magic + 128 little-endian float32


class Embedder:
    """Turns an aligned 112x112 RGB face into an L2-normalised float32 (128,) embedding.

    The crop's luma is first stretched between its 2nd and 98th percentiles
    (``stretch_luma``): measured to help in the dark and the dim office (docs/vision.md).
    References and probes go through the same step, so templates stay comparable.
    """

    def __init__(self, model: Model, normalise: bool = True) -> None:
        self.model = model
        self.normalise = normalise
        self._buf = np.zeros((1, 3, ALIGNED_SIZE, ALIGNED_SIZE), np.float32)

    def embed(self, aligned: np.ndarray) -> np.ndarray:
        """Embedding of one aligned face (112x112x3 uint8 RGB)."""
        if aligned.shape != (ALIGNED_SIZE, ALIGNED_SIZE, 3):
            raise ImageError(f"aligned face must be 112x112x3, got {aligned.shape}")
        face = stretch_luma(aligned) if self.normalise else aligned
        chw = np.transpose(face, (2, 0, 1))
        np.subtract(chw, 127.5, out=self._buf[0], casting="unsafe")
        self._buf *= 1.0 / 128.0
        (out,) = self.model.run(self._buf)
        return normalise(out[0], self.model.name)


def normalise(vec: np.ndarray, source: str = "embedding") -> np.ndarray:
    """L2-normalised float32 copy of ``vec``; a zero or non-finite vector is a ModelError."""
    v = np.asarray(vec, np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n < 1e-8:
        raise ModelError(f"{source}: produced a zero or non-finite embedding")
    return (v / n).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (normalised here), -1..1."""
    a = np.asarray(a, np.float32).reshape(-1)
    b = np.asarray(b, np.float32).reshape(-1)
    if a.shape != (EMBEDDING_DIM,) or b.shape != (EMBEDDING_DIM,):
        raise ValueError(
            f"embeddings must have {EMBEDDING_DIM} values, got {a.shape} and {b.shape}"
        )
    return float(np.dot(normalise(a, "template"), normalise(b, "template")))


def template_to_bytes(emb: np.ndarray) -> bytes:
    """Serialise an embedding (128 floats) to 516 bytes: magic + little-endian float32."""
    v = np.asarray(emb, np.float32).reshape(-1)
    if v.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(v)):
        raise ValueError(f"a template is {EMBEDDING_DIM} finite floats, got shape {v.shape}")
    return _MAGIC + v.astype("<f4").tobytes()


def template_from_bytes(data: bytes) -> np.ndarray:
    """Inverse of :func:`template_to_bytes`; a bad blob is a ValueError."""
    if len(data) != len(_MAGIC) + 4 * EMBEDDING_DIM or data[: len(_MAGIC)] != _MAGIC:
        raise ValueError("not a kiosk face template (wrong length or version)")
    v = np.frombuffer(data[len(_MAGIC) :], dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(v)):
        raise ValueError("face template contains non-finite values")
    return v


def seal_template(cipher: AtRestCipher, emb: np.ndarray, purpose: str) -> bytes:
    """Encrypt a template for storage at rest (``purpose`` e.g. 'template:<record id>')."""
    return cipher.seal(template_to_bytes(emb), purpose)


def open_template(cipher: AtRestCipher, sealed: bytes, purpose: str) -> np.ndarray:
    """Decrypt a template sealed by :func:`seal_template` with the same ``purpose``."""
    return template_from_bytes(cipher.open(sealed, purpose))


__all__ = [
    "Embedder",
    "cosine",
    "open_template",
    "seal_template",
    "template_from_bytes",
    "template_to_bytes",
]
