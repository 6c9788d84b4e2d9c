"""Face detection with BlazeFace: MediaPipe Tasks ``FaceDetector``, or the same model decoded here.

Two backends share one interface (``detect(image) -> list[Detection]``):

* ``mediapipe``: MediaPipe's Tasks ``FaceDetector`` loads the ``.tflite`` (it carries metadata)
  and does anchor decoding and non-max suppression itself.
* ``litert``: the same model file through the LiteRT interpreter, with MediaPipe's SSD anchor
  decoding and weighted NMS re-implemented in numpy. It returns the same boxes (tested against
  the Tasks detector) in a quarter of the time, because the Tasks graph costs about 3 ms per
  call on top of a 1 ms model, which breaks the per-frame budget.

The full-range model is used for distant faces when the short-range model finds none.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from kiosk.backends import DETECTORS
from kiosk.errors import ModelError
from kiosk.vision.models import Model, ModelPack


@dataclass(frozen=True)
class Detection:
    """One face: box (x, y, w, h) in pixels, score 0..1, six keypoints (6, 2) in pixels.

    Keypoints: right eye, left eye (the person's), nose tip, mouth centre, right ear, left ear.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the box, pixels."""
        x, y, w, h = self.box
        return (x + w / 2.0, y + h / 2.0)

    @property
    def size(self) -> float:
        """Larger side of the box, pixels."""
        return max(self.box[2], self.box[3])


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB image."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (HxWx3 uint8 RGB), best first."""
        ...


@dataclass(frozen=True)
class AnchorSpec:
    """MediaPipe SSD anchor options for one BlazeFace variant."""

    input_size: int
    strides: tuple[int, ...]
    anchors_per_cell: int
    min_score: float


SHORT_RANGE = AnchorSpec(128, (8, 16, 16, 16), 2, 0.5)
FULL_RANGE = AnchorSpec(192, (4,), 1, 0.6)
NMS_IOU = 0.3
NMS_SIZE_RATIO = 1.5
"""Overlapping boxes more different in size than this are kept apart (a face before a poster)."""


def make_anchors(spec: AnchorSpec) -> np.ndarray:
    """Anchor centres (N, 2), normalised 0..1, in MediaPipe's order (equal strides merged)."""
    centres: list[np.ndarray] = []
    i = 0
    strides = spec.strides
    while i < len(strides):
        stride = strides[i]
        repeats = 0
        while i < len(strides) and strides[i] == stride:
            repeats += spec.anchors_per_cell
            i += 1
        n = int(np.ceil(spec.input_size / stride))
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        c = np.stack([(xs + 0.5) / n, (ys + 0.5) / n], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(c, repeats, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def pairwise_iou(boxes: np.ndarray) -> np.ndarray:
    """(N, N) IoU of every pair of (x0, y0, x1, y1) boxes."""
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:4], boxes[None, :, 2:4])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area = np.prod(boxes[:, 2:4] - boxes[:, :2], axis=1)
    return inter / np.maximum(area[:, None] + area[None, :] - inter, 1e-9)


def weighted_nms_rows(
    rows: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU
) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged by score.

    ``rows`` is (N, K) with the box corners (x0, y0, x1, y1) in its first four columns and any
    further coordinates (keypoints) after them; each result is a score-weighted mean row and
    the score of the best candidate in its group, best first. Unlike MediaPipe, a candidate
    whose box is more than ``NMS_SIZE_RATIO`` times larger or smaller than the group's top is
    not merged into it: a face in front of a larger face-like poster stays its own detection
    instead of being averaged into a box that matches nobody.
    """
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    sides = np.maximum(rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]).clip(1e-6, None)
    ratio = sides[:, None] / sides[None, :]
    similar = (ratio <= NMS_SIZE_RATIO) & (ratio >= 1.0 / NMS_SIZE_RATIO)
    overlaps = ((pairwise_iou(rows[:, :4]) > iou) & similar).tolist()
    free = [True] * len(scores)
    out = []
    for top in range(len(scores)):
        if not free[top]:
            continue
        # The top candidate always leads its own group, even with a degenerate (empty) box.
        group = [top] + [j for j in range(top + 1, len(scores)) if free[j] and overlaps[top][j]]
        for j in group:
            free[j] = False
        w = scores[group]
        out.append(((w @ rows[group]) / w.sum(), float(scores[top])))
    return out


class LiteRtBlazeFace:
    """BlazeFace decoded here from the raw tensors of the LiteRT interpreter."""

    def __init__(self, model: Model, spec: AnchorSpec) -> None:
        self.model = model
        self.spec = spec
        self.anchors = make_anchors(spec)
        self._min_logit = float(np.log(spec.min_score / (1.0 - spec.min_score)))
        self._geometry: tuple[tuple[float, int, int], np.ndarray, np.ndarray] = (
            (0.0, 0, 0),
            np.zeros(0),
            np.zeros(0),
        )
        if len(self.anchors) != model.spec.outputs[0][1]:
            raise ModelError(f"{model.name}: anchor count does not match the model")
        s = spec.input_size
        self._buf = np.zeros((1, s, s, 3), np.float32)
        self._letterbox = (0, 0)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (HxWx3 uint8 RGB), best first."""
        h, w = image.shape[:2]
        size = self.spec.input_size
        scale = size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        px, py = (size - nw) // 2, (size - nh) // 2
        # Bilinear, as MediaPipe's own image-to-tensor step does for this model.
        small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        buf = self._buf
        if self._letterbox != (nw, nh):
            buf.fill(-1.0)  # the padding stays -1 while frames keep one size
            self._letterbox = (nw, nh)
        inner = buf[0, py : py + nh, px : px + nw]
        np.multiply(small, np.float32(1.0 / 127.5), out=inner, casting="unsafe")
        inner -= np.float32(1.0)
        raw, logits = self.model.run(buf)
        return self._decode(raw[0], logits[0, :, 0], scale, px, py)

    def _decode(
        self, raw: np.ndarray, logits: np.ndarray, scale: float, px: int, py: int
    ) -> list[Detection]:
        keep = np.flatnonzero(logits >= self._min_logit)
        if keep.size == 0:
            return []
        linear, offsets = self._to_pixels(scale, px, py)
        rows = raw[keep] @ linear + offsets[keep]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100.0, 100.0)))
        dets = []
        for row, score in weighted_nms_rows(rows, scores):
            x0, y0, x1, y1 = (float(v) for v in row[:4])
            dets.append(Detection((x0, y0, x1 - x0, y1 - y0), score, row[4:].reshape(6, 2)))
        return dets

    def _to_pixels(self, scale: float, px: int, py: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine map from a raw regressor row to image pixels, cached per frame geometry.

        A raw row is (dx, dy, w, h, 6 x (kx, ky)) in model-input pixels, offsets from the
        anchor centre; the result row is (x0, y0, x1, y1, 6 x (x, y)) in image pixels. As one
        (16, 16) matrix and a per-anchor offset, decoding every candidate is one matmul.
        """
        key = (scale, px, py)
        if self._geometry[0] != key:
            linear = np.zeros((16, 16), np.float32)
            for corner, sign in ((0, -0.5), (2, 0.5)):  # x0, y0 = c - wh/2; x1, y1 = c + wh/2
                linear[0, corner] = linear[1, corner + 1] = 1.0
                linear[2, corner] = linear[3, corner + 1] = sign
            linear[4:, 4:] = np.eye(12)
            # Every output column is an x or a y, each shifted by its anchor's centre.
            centre = np.tile(self.anchors * self.spec.input_size, 8)  # (N, 16)
            offsets = (centre - np.tile(np.array([px, py], np.float32), 8)) / scale
            self._geometry = (key, linear / scale, offsets.astype(np.float32))
        return self._geometry[1], self._geometry[2]


class MediaPipeTasksDetector:
    """MediaPipe Tasks ``FaceDetector`` on a verified model file."""

    def __init__(self, path: Path, min_score: float = 0.5) -> None:
        try:
            from mediapipe.tasks import python as mp_tasks
            from mediapipe.tasks.python import vision as mp_vision
        except ImportError as err:  # pragma: no cover - mediapipe is a dependency
            raise ModelError(f"{path.name}: mediapipe is not installed ({err})") from err
        opts = mp_vision.FaceDetectorOptions(
            base_options=mp_tasks.BaseOptions(model_asset_path=str(path)),
            running_mode=mp_vision.RunningMode.IMAGE,
            min_detection_confidence=min_score,
        )
        try:
            self._det: Any = mp_vision.FaceDetector.create_from_options(opts)
        except (RuntimeError, ValueError) as err:
            raise ModelError(f"{path.name}: MediaPipe FaceDetector cannot load it ({err})") from err
        # Close the graph before interpreter shutdown (its __del__ fails late in teardown).
        self._finalizer = weakref.finalize(self, self._det.close)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (HxWx3 uint8 RGB), best first."""
        import mediapipe as mp

        h, w = image.shape[:2]
        result = self._det.detect(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        )
        dets = []
        for d in result.detections:
            bb = d.bounding_box
            kps = np.array([[k.x * w, k.y * h] for k in d.keypoints], np.float32).reshape(-1, 2)
            box = (float(bb.origin_x), float(bb.origin_y), float(bb.width), float(bb.height))
            dets.append(Detection(box, float(d.categories[0].score), kps))
        return sorted(dets, key=lambda d: -d.score)

    def close(self) -> None:
        """Release the MediaPipe graph."""
        self._finalizer()


class CascadeDetector:
    """Short-range detector first; the full-range model only when it finds no face."""

    def __init__(self, near: FaceDetector, far: FaceDetector | None = None) -> None:
        self.near = near
        self.far = far

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image``, best first."""
        dets = self.near.detect(image)
        if not dets and self.far is not None:
            dets = self.far.detect(image)
        return dets

    def close(self) -> None:
        """Release backends that hold native resources (the MediaPipe graphs)."""
        for det in (self.near, self.far):
            closer = getattr(det, "close", None)
            if closer is not None:
                closer()


def litert_detectors(pack: ModelPack) -> tuple[FaceDetector, FaceDetector | None]:
    """Short- and (if in the pack) full-range BlazeFace on LiteRT, decoded in NumPy."""
    far = LiteRtBlazeFace(pack["detector_full"], FULL_RANGE) if "detector_full" in pack else None
    return LiteRtBlazeFace(pack["detector"], SHORT_RANGE), far


def mediapipe_detectors(pack: ModelPack) -> tuple[FaceDetector, FaceDetector | None]:
    """The same two model files on the MediaPipe Tasks FaceDetector."""
    far = (
        MediaPipeTasksDetector(pack["detector_full"].path, FULL_RANGE.min_score)
        if "detector_full" in pack
        else None
    )
    return MediaPipeTasksDetector(pack["detector"].path, SHORT_RANGE.min_score), far


def build_detector(pack: ModelPack, backend: str = "litert") -> CascadeDetector:
    """A cascade of the short- and (if loaded) full-range detectors on ``backend``.

    ``backend`` is a row of ``kiosk.backends.DETECTORS``.
    """
    near, far = DETECTORS.factory(backend, ModelError)(pack)
    return CascadeDetector(near, far)
