"""The e-KTP photo held up to the camera, matched as supporting evidence only.

The card photo is small, printed, laminated and often many years old, so it has its own,
looser thresholds and its band is recorded with source ``id_card``: the decision policy never
verifies on it alone (every ``id_card`` row ends in *pending*, for the portal or an agent to
confirm). Liveness is not asked of the card (it is a photo by definition); the live face it is
compared with has already passed liveness. When the person's own face is also in the frame,
the smallest detected face is taken as the card's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from kiosk.core.biometrics import MatchBand, match_band
from kiosk.errors import ImageError
from kiosk.vision.align import align_face
from kiosk.vision.embedder import cosine
from kiosk.vision.images import check_image
from kiosk.vision.pipeline import FacePipeline, template_from_bytes

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

    def match(self, image: np.ndarray, live_template: bytes) -> IdCardEvidence:
        """Band of the card photo in ``image`` (HxWx3 RGB) against ``live_template`` (KFT1)."""
        try:
            live = template_from_bytes(live_template)
        except ValueError as err:
            raise ImageError(f"live template unusable: {err}") from err
        found = self.card_embedding(image)
        if isinstance(found, IdCardEvidence):
            return found
        t = self.thresholds
        band: MatchBand = match_band(cosine(found, live), t.high, t.medium, t.low)
        log.info("ID-card photo compared: band %s (supporting evidence only)", band.value)
        return IdCardEvidence(band.value, None)
