"""468-point face mesh (``face_landmark.tflite`` run directly) and the measures read off it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.detector import Detection
from kiosk.vision.models import Model

MESH_SIZE = 192
CROP_SCALE = 1.5
PRESENCE_MIN = 0.5

# Mesh indices (canonical MediaPipe topology). "right"/"left" are the person's own sides.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)  # corner, top, top, corner, bottom, bottom
LEFT_EYE = (362, 385, 387, 263, 373, 380)
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
CHEEK_RIGHT, CHEEK_LEFT = 234, 454
FOREHEAD, CHIN = 10, 152


@dataclass(frozen=True)
class Mesh:
    """Mesh of one face: landmarks (468, 3) in image pixels, presence 0..1, the model's crop."""

    landmarks: np.ndarray
    presence: float
    crop: np.ndarray  # (192, 192, 3) uint8 RGB, eyes level; reused by the quality gate
    crop_landmarks: np.ndarray  # (468, 3) in crop pixels

    def five_points(self) -> np.ndarray:
        """(5, 2) image points for alignment: right eye, left eye, nose tip, mouth corners."""
        lm = self.landmarks[:, :2]
        return np.stack(
            [
                (lm[RIGHT_EYE[0]] + lm[RIGHT_EYE[3]]) / 2.0,
                (lm[LEFT_EYE[0]] + lm[LEFT_EYE[3]]) / 2.0,
                lm[NOSE_TIP],
                lm[MOUTH_RIGHT],
                lm[MOUTH_LEFT],
            ]
        ).astype(np.float32)

    def eye_ratio(self) -> float:
        """Mean eye aspect ratio of both eyes (about 0.3 open, under 0.2 closed)."""
        lm = self.crop_landmarks[:, :2]

        def ear(idx: tuple[int, ...]) -> float:
            p = lm[list(idx)].tolist()
            horiz = math.dist(p[0], p[3])
            vert = math.dist(p[1], p[5]) + math.dist(p[2], p[4])
            return vert / (2.0 * horiz) if horiz > 1e-6 else 0.0

        return (ear(RIGHT_EYE) + ear(LEFT_EYE)) / 2.0

    def pose(self) -> tuple[float, float, float]:
        """Head (yaw, pitch, roll) in degrees; yaw > 0 when turned to the person's left."""
        c = self.crop_landmarks
        d = c[CHEEK_LEFT] - c[CHEEK_RIGHT]
        yaw = math.degrees(math.atan2(float(d[2]), float(d[0])))
        v = c[CHIN] - c[FOREHEAD]
        pitch = math.degrees(math.atan2(float(v[2]), float(v[1])))
        e = self.landmarks[LEFT_EYE[3]] - self.landmarks[RIGHT_EYE[0]]
        roll = math.degrees(math.atan2(float(e[1]), float(e[0])))
        return yaw, pitch, roll


def crop_transform(det: Detection) -> tuple[np.ndarray, float]:
    """Affine (2x3) taking image pixels to the mesh crop, levelling the eyes; and the scale."""
    right_eye, left_eye = det.keypoints[0], det.keypoints[1]
    phi = math.atan2(float(left_eye[1] - right_eye[1]), float(left_eye[0] - right_eye[0]))
    cx, cy = det.center
    side = det.size * CROP_SCALE
    k = MESH_SIZE / max(side, 1.0)
    cos, sin = math.cos(phi) * k, math.sin(phi) * k
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]], np.float64)
    m[:, 2] = MESH_SIZE / 2.0 - m[:, :2] @ np.array([cx, cy])
    return m, k


class FaceMesh:
    """Runs the landmark model on a rotated square crop around a detection."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._buf = np.zeros((1, MESH_SIZE, MESH_SIZE, 3), np.float32)

    def run(self, image: np.ndarray, det: Detection) -> Mesh | None:
        """The mesh of the face at ``det``, or None if the model says no face is there."""
        m, k = crop_transform(det)
        crop = cv2.warpAffine(
            image, m, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        np.multiply(crop, np.float32(1.0 / 255.0), out=self._buf[0], casting="unsafe")
        pts, logit = self.model.run(self._buf)
        presence = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, float(logit.ravel()[0])))))
        if presence < PRESENCE_MIN:
            return None
        crop_lm = pts.reshape(468, 3).astype(np.float32)
        inv = cv2.invertAffineTransform(m)
        xy = crop_lm[:, :2] @ inv[:, :2].T + inv[:, 2]
        lm = np.concatenate([xy, crop_lm[:, 2:3] / k], axis=1).astype(np.float32)
        return Mesh(lm, presence, crop, crop_lm)
