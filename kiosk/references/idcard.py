"""The e-KTP photo held up to the camera: the reference when the village set has none.

When no village reference exists for a NIK, the person (or the agent helping them) shows the
e-KTP to the camera; the face on the card becomes the reference of that NIK's 1:1 match, held
in memory only (:class:`CardReferences`: never written anywhere, forgotten when the session
ends; the card photo itself is never kept). The card photo is small, printed, laminated and
often many years old, so it has its own, looser thresholds and its band is recorded with source
``id_card``: the decision policy never verifies on it alone (every ``id_card`` row ends in
*pending*, for the portal or an agent to confirm). Liveness is not asked of the card (it is a
photo by definition); the live face matched against it passes liveness as always. When the
person's own face is also in the frame, the smallest detected face is taken as the card's.
"""

from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiosk.core.biometrics import match_band
from kiosk.errors import ImageError
from kiosk.references.store import Reference
from kiosk.vision.align import align_face
from kiosk.vision.embedder import cosine
from kiosk.vision.images import check_image
from kiosk.vision.pipeline import FacePipeline, template_from_bytes, template_to_bytes

log = logging.getLogger(__name__)

SOURCE = "id_card"
"""The decision-policy source name of ID-card evidence."""


@dataclass(frozen=True)
class IdCardThresholds:
    """Cosine-similarity bands for card photo vs live face (looser than the reference bands)."""

    high: float = 0.50
    medium: float = 0.40
    low: float = 0.30
    min_face_px: float = 36.0  # smallest card face accepted, pixels (larger box side)

    def __post_init__(self) -> None:
        if not 1 >= self.high >= self.medium >= self.low >= -1:
            raise ValueError("ID-card thresholds must satisfy 1 >= high >= medium >= low >= -1")
        if self.min_face_px <= 0:
            raise ValueError("min_face_px must be positive (pixels)")


@dataclass(frozen=True)
class IdCardEvidence:
    """The card photo's band against the live face, or a coaching code when no card face."""

    band: str | None  # HIGH / MEDIUM / LOW / NONE
    coaching: str | None  # e.g. no_card_face, card_too_small


class IdCardMatcher:
    """Finds the card's face in a frame and bands it against the live template."""

    def __init__(self, pipeline: FacePipeline, thresholds: IdCardThresholds | None = None) -> None:
        self._pipeline = pipeline
        self.thresholds = thresholds or IdCardThresholds()

    def card_embedding(self, image: np.ndarray) -> np.ndarray | IdCardEvidence:
        """Embedding of the card's face, or the evidence explaining why there is none."""
        image = check_image(image, "ID-card frame")
        faces = self._pipeline.detector.detect(image)
        if not faces:
            return IdCardEvidence(None, "no_card_face")
        card = min(faces, key=lambda d: d.size)
        if card.size < self.thresholds.min_face_px:
            return IdCardEvidence(None, "card_too_small")
        mesh = self._pipeline.mesh.run(image, card)
        if mesh is None:
            return IdCardEvidence(None, "no_card_face")
        return self._pipeline.embedder.embed(align_face(image, mesh.five_points()))

    def card_template(self, image: np.ndarray) -> bytes | IdCardEvidence:
        """The card face's template (KFT1 bytes), or the evidence explaining why there is none."""
        found = self.card_embedding(image)
        return found if isinstance(found, IdCardEvidence) else template_to_bytes(found)

    def band(self, live: np.ndarray, card: np.ndarray) -> str:
        """The band of a live face embedding against a card face embedding (own thresholds)."""
        t = self.thresholds
        return match_band(cosine(live, card), t.high, t.medium, t.low).value

    def match(self, image: np.ndarray, live_template: bytes) -> IdCardEvidence:
        """Band of the card photo in ``image`` (HxWx3 RGB) against ``live_template`` (KFT1)."""
        try:
            live = template_from_bytes(live_template)
        except ValueError as err:
            raise ImageError(f"live template unusable: {err}") from err
        found = self.card_embedding(image)
        if isinstance(found, IdCardEvidence):
            return found
        band = self.band(live, found)
        log.info("ID-card photo compared: band %s (supporting evidence only)", band)
        return IdCardEvidence(band, None)


class VillageReferences(Protocol):
    """The village reference set (:class:`kiosk.references.store.ReferenceStore`)."""

    def lookup(self, nik: str) -> Reference | None:
        """The reference for ``nik``, or None."""
        ...


class CardReferences:
    """The verifier's references: the village set first, else the e-KTP shown for that NIK.

    Holds at most one card (the kiosk serves one person at a time), in memory only, for the NIK
    it was shown for; :meth:`forget` drops it (the session ended).
    """

    def __init__(self, village: VillageReferences, village_code: str) -> None:
        self._village = village
        self._village_code = village_code
        self._lock = threading.Lock()
        self._card: tuple[str, bytes] | None = None  # (NIK, card template)

    def lookup(self, nik: str) -> Reference | None:
        """The village reference of ``nik``, else its card reference (source ``id_card``)."""
        found = self._village.lookup(nik)
        if found is not None:
            return found
        with self._lock:
            card = self._card
        if card is None or not hmac.compare_digest(card[0], nik):
            return None
        return Reference(card[1], "", "", self._village_code, 0, source=SOURCE)

    def in_village_set(self, nik: str) -> bool:
        """True when the village set has a reference for ``nik`` (no card is needed)."""
        return self._village.lookup(nik) is not None

    def hold(self, nik: str, template: bytes) -> None:
        """Use ``template`` (the face on the card shown for ``nik``) as its reference."""
        with self._lock:
            self._card = (nik, template)

    def holds(self, nik: str) -> bool:
        """True when a card was shown for ``nik``."""
        with self._lock:
            return self._card is not None and hmac.compare_digest(self._card[0], nik)

    def forget(self) -> None:
        """Drop the card reference (the session ended, whatever its outcome)."""
        with self._lock:
            self._card = None
