"""The face pipeline facade: ``analyze`` each frame, ``verify`` the best one, ``embed_image``.

Raw frames and embeddings stay in memory; nothing here logs a face, a template or a score
tied to a person. Spoof suspicions are logged with the score only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.config import BiometricsConfig, KioskConfig
from kiosk.core.biometrics import (
    Coaching,
    LivenessBand,
    MatchBand,
    match_band,
)
from kiosk.errors import ImageError
from kiosk.vision.align import align_face
from kiosk.vision.detector import CascadeDetector, Detection, build_detector
from kiosk.vision.embedder import (
    Embedder,
    cosine,
    template_from_bytes,
    template_to_bytes,
)
from kiosk.vision.images import check_image
from kiosk.vision.liveness import (
    FasModel,
    LivenessLimits,
    PassiveLiveness,
    PassiveVerdict,
    passive_verdict,
)
from kiosk.vision.mesh import FaceMesh, Mesh
from kiosk.vision.models import ModelPack
from kiosk.vision.photometric import noise_sigma
from kiosk.vision.quality import QualityLimits, QualityMetrics, first_failure, frame_score, measure
from kiosk.vision.subject import Box, SubjectRule, choose_subject

log = logging.getLogger("kiosk.vision")

__all__ = [
    "BestFrameKeeper",
    "FacePipeline",
    "FrameAnalysis",
    "VerifyResult",
    "template_from_bytes",
    "template_to_bytes",
]


@dataclass(frozen=True)
class FrameAnalysis:
    """What one frame shows: faces, quality verdict, coaching code, face box, keep-score."""

    image: np.ndarray = field(repr=False)
    faces: int
    coaching: Coaching
    detection: Detection | None = field(default=None, repr=False)
    mesh: Mesh | None = field(default=None, repr=False)
    metrics: QualityMetrics | None = None
    score: float = 0.0
    timestamp: float | None = None

    @property
    def ok(self) -> bool:
        """True when the frame passes every quality check."""
        return self.coaching is Coaching.OK

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """Main face box (x, y, w, h) in pixels, or None."""
        return self.detection.box if self.detection else None

    @property
    def face_luma(self) -> float:
        """Mean luma 0..255 of the face region (the whole frame without a face): for the light."""
        if self.metrics is not None:
            return self.metrics.face_luma
        img = self.image
        if self.detection is not None:
            x, y, w, h = (round(v) for v in self.detection.box)
            x0, y0 = max(0, x), max(0, y)
            region = img[y0 : max(y0 + 1, y + h), x0 : max(x0 + 1, x + w)]
            if region.size:
                img = region
        step = max(1, min(img.shape[:2]) // 64)
        return float(sum(cv2.mean(img[::step, ::step])[:3]) / 3.0)

    @property
    def usable(self) -> bool:
        """True when a face and its mesh were found (enough to embed, even if coached)."""
        return self.detection is not None and self.mesh is not None


@dataclass(frozen=True)
class VerifyResult:
    """Liveness and match of one capture. Show only the bands; the scores are for eval/logs."""

    liveness_score: float
    liveness: LivenessBand
    embedding: np.ndarray = field(repr=False)
    match: MatchBand | None
    similarity: float | None = field(default=None, repr=False)


class BestFrameKeeper:
    """Keeps the best analysed frame seen so far: quality-passing first, then highest score."""

    def __init__(self) -> None:
        self.best: FrameAnalysis | None = None

    def offer(self, analysis: FrameAnalysis) -> bool:
        """Consider one analysis; True if it became the best."""
        if not analysis.usable:
            return False
        if self.best is None or (analysis.ok, analysis.score) > (self.best.ok, self.best.score):
            self.best = analysis
            return True
        return False

    def clear(self) -> None:
        """Forget the kept frame (end of a session)."""
        self.best = None


class FacePipeline:
    """Detection, mesh, quality, liveness, alignment, embedding and matching."""

    def __init__(
        self,
        pack: ModelPack,
        thresholds: BiometricsConfig | None = None,
        detector_backend: str = "litert",
        limits: QualityLimits | None = None,
        subject_rule: SubjectRule | None = None,
    ) -> None:
        self.pack = pack
        self.thresholds = thresholds or BiometricsConfig()
        self.limits = limits or QualityLimits()
        self.liveness_limits = LivenessLimits()
        self.subject_rule = subject_rule or SubjectRule()
        self.detector: CascadeDetector = build_detector(pack, detector_backend)
        self.mesh = FaceMesh(pack["mesh"])
        self.embedder = Embedder(pack["embedder"])
        self.liveness = PassiveLiveness(
            [FasModel(pack["fas_v2"], 2.7), FasModel(pack["fas_v1se"], 4.0)]
        )

    @classmethod
    def from_config(
        cls, cfg: KioskConfig, detector_backend: str | None = None, threads: int = 2
    ) -> FacePipeline:
        """Load and verify the model pack of ``cfg``; thresholds and detector from ``cfg``.

        ``detector_backend`` overrides ``cfg.biometrics.detector`` (the benchmark uses it).
        """
        pack = ModelPack.load(Path(cfg.paths.resolved_models_dir()), threads=threads)
        return cls(pack, cfg.biometrics, detector_backend or cfg.biometrics.detector)

    def close(self) -> None:
        """Release native resources held by the detector backend."""
        self.detector.close()

    def analyze(
        self, image: np.ndarray, timestamp: float | None = None, track: Box | None = None
    ) -> FrameAnalysis:
        """Detect, choose the subject, mesh and quality-check one RGB frame (HxWx3 uint8).

        ``track`` is the subject's box in the previous frames of the attempt: the face that
        continues it is preferred (see :mod:`kiosk.vision.subject`).
        """
        image = check_image(image, "frame")
        dets = self.detector.detect(image)
        h, w = image.shape[:2]
        subject = choose_subject(dets, w, h, track, self.subject_rule)
        det = subject.detection
        if det is None:
            return FrameAnalysis(image, 0, Coaching.NO_FACE, timestamp=timestamp)
        mesh = self.mesh.run(image, det)
        if mesh is None:
            return FrameAnalysis(
                image, subject.plausible, Coaching.NO_FACE, det, timestamp=timestamp
            )
        metrics = measure(image, det, mesh, subject.plausible, self.subject_rule)
        coaching = first_failure(metrics, self.limits)
        return FrameAnalysis(
            image,
            metrics.faces,
            coaching,
            det,
            mesh,
            metrics,
            frame_score(metrics, det.score),
            timestamp,
        )

    def embed_analysis(self, analysis: FrameAnalysis) -> np.ndarray:
        """Embedding of the main face of an analysed frame."""
        if analysis.mesh is None:
            raise ImageError("no usable face in the image")
        return self.embedder.embed(align_face(analysis.image, analysis.mesh.five_points()))

    def embed_image(self, image: np.ndarray) -> np.ndarray:
        """Unit-length float32 (128,) embedding of the largest face (to enrol a reference)."""
        return self.embed_analysis(self.analyze(image))

    def liveness_of(self, analysis: FrameAnalysis) -> float:
        """Passive liveness probability 0..1 of the main face of an analysed frame."""
        if analysis.detection is None:
            raise ImageError("no usable face in the image")
        return self.liveness.score(analysis.image, analysis.detection.box)

    def passive_liveness(
        self, analysis: FrameAnalysis, frames: Sequence[FrameAnalysis] = ()
    ) -> PassiveVerdict:
        """Passive liveness of ``analysis`` fused with the other usable ``frames``."""
        t = self.thresholds
        run = [analysis, *(f for f in frames if f.usable and f is not analysis)]
        scores = [self.liveness_of(f) for f in run]
        poor = not all(self.fit_for_liveness(f) for f in run)
        return passive_verdict(scores, t.liveness_live, t.liveness_spoof, poor)

    def fit_for_liveness(self, analysis: FrameAnalysis) -> bool:
        """True when a frame is good enough for a firm passive verdict (see LivenessLimits)."""
        m, mesh, lim = analysis.metrics, analysis.mesh, self.liveness_limits
        if not analysis.ok or m is None or mesh is None or m.face_px < lim.min_face_px:
            return False
        gray = cv2.cvtColor(mesh.crop, cv2.COLOR_RGB2GRAY)[48:144, 48:144]
        return noise_sigma(gray) <= lim.max_noise

    def verify(
        self,
        image_or_analysis: np.ndarray | FrameAnalysis,
        reference: np.ndarray | None,
        liveness_frames: Sequence[FrameAnalysis] = (),
    ) -> VerifyResult:
        """Liveness, embedding and (with a ``reference`` template) the match band.

        Passive liveness is the median over the analysed frame and any usable
        ``liveness_frames`` (other good frames of the same attempt): MiniFASNet's score moves
        by tenths when the face box moves by a few pixels or the sensor adds noise, and the
        median of several frames is steadier than any one of them and than their mean (one
        odd frame does not pull it). The embedding is always of the analysed frame.
        """
        analysis = (
            image_or_analysis
            if isinstance(image_or_analysis, FrameAnalysis)
            else self.analyze(image_or_analysis)
        )
        if not analysis.usable:
            raise ImageError("no usable face in the image")
        t = self.thresholds
        passive = self.passive_liveness(analysis, liveness_frames)
        live_score, live = passive.score, passive.band
        if live is not LivenessBand.LIVE:
            log.warning("spoof suspicion: passive liveness %.3f -> %s", live_score, live.value)
        emb = self.embed_analysis(analysis)
        if reference is None:
            return VerifyResult(live_score, live, emb, None, None)
        sim = cosine(emb, reference)
        band = match_band(sim, t.match_high, t.match_medium, t.match_low)
        return VerifyResult(live_score, live, emb, band, sim)
