"""How closely the LiteRT detector follows MediaPipe Tasks ``FaceDetector`` on real photos.

``python bench/detector_agreement.py [DIR] [--resize linear|area] [--json]``

Runs both backends of the short-range BlazeFace on every ``*.jpg`` under DIR (default
``../shared/faces``), each photo at its own size and letterboxed to 640x480, and reports the
IoU of the two top boxes and the largest keypoint gap (as a fraction of the face size).
``--resize area`` swaps the LiteRT letterbox's bilinear resize for ``INTER_AREA``, to compare
the two filters; results are recorded in docs/PERFORMANCE.md (Vision).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import numpy as np
from _common import emit

from kiosk.config import REPO_ROOT, KioskConfig
from kiosk.vision.camera.replay import fit_frame
from kiosk.vision.detector import SHORT_RANGE, LiteRtBlazeFace, MediaPipeTasksDetector
from kiosk.vision.images import load_image
from kiosk.vision.models import ModelPack


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two (x, y, w, h) boxes."""
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def agreement(folder: Path, resize: str) -> dict[str, Any]:
    """Compare both backends on every photo under ``folder``."""
    pack = ModelPack.load(Path(KioskConfig().paths.resolved_models_dir()), roles=("detector",))
    ours = LiteRtBlazeFace(pack["detector"], SHORT_RANGE)
    tasks = MediaPipeTasksDetector(pack["detector"].path)
    real_resize = cv2.resize

    def area_resize(img: np.ndarray, size: tuple[int, int], interpolation: int = 0) -> Any:
        return real_resize(img, size, interpolation=cv2.INTER_AREA)

    ious: list[float] = []
    kp_gaps: list[float] = []
    disagree: list[str] = []
    try:
        for path in sorted(folder.rglob("*.jpg")):
            photo = load_image(path)
            for image in (photo, fit_frame(load_image(path, fit=(640, 480)), 640, 480)):
                if resize == "area":
                    with mock.patch("kiosk.vision.detector.cv2.resize", area_resize):
                        a = ours.detect(image)
                else:
                    a = ours.detect(image)
                b = tasks.detect(image)
                if bool(a) != bool(b):
                    disagree.append(str(path.relative_to(folder)))
                elif a:
                    ious.append(iou(a[0].box, b[0].box))
                    kp_gaps.append(float(np.abs(a[0].keypoints - b[0].keypoints).max()) / b[0].size)
    finally:
        tasks.close()
    return {
        "resize": resize,
        "pairs": len(ious),
        "iou_mean": float(np.mean(ious)),
        "iou_min": float(np.min(ious)),
        "keypoint_gap_mean": float(np.mean(kp_gaps)),
        "keypoint_gap_max": float(np.max(kp_gaps)),
        "found_by_one_only": disagree,
    }


def main() -> int:
    """Parse the options, compare, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", type=Path, default=REPO_ROOT.parent / "shared" / "faces")
    p.add_argument("--resize", choices=("linear", "area"), default="linear")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    result = agreement(args.folder, args.resize)
    emit(result, args.json, width=20, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
