"""``kiosk bench vision``: per-frame and verification timings beside raw ``invoke()`` times."""

from __future__ import annotations

import logging
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.config import KioskConfig
from kiosk.errors import CameraError
from kiosk.vision.camera import DEMO_FACES
from kiosk.vision.camera.replay import ReplayCamera
from kiosk.vision.pipeline import FacePipeline

FRAME_MODELS = ("detector", "mesh")
VERIFY_MODELS = ("fas_v2", "fas_v1se", "embedder")


def machine() -> dict[str, Any]:
    """Where the benchmark ran: CPU model, cores, architecture, Python, TFLite runtime."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from kiosk.vision.runtime import interpreter_class

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "runtime": interpreter_class().__module__,
        "load_avg_1m": os.getloadavg()[0],
    }


def _stats(values: list[float]) -> dict[str, float]:
    a = np.array(values) * 1000.0
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95))}


def run_bench(
    cfg: KioskConfig, frames: int = 200, warmup: int = 50, detector_backend: str | None = None
) -> dict[str, Any]:
    """Time ``analyze`` and ``verify`` on replayed 640x480 frames; raw invokes interleaved."""
    source = cfg.camera.replay_source or DEMO_FACES
    if not Path(source).exists():
        raise CameraError(f"benchmark replay source {source} does not exist")
    camera = ReplayCamera(Path(source), width=640, height=480)
    detector_backend = detector_backend or cfg.biometrics.detector
    pipeline = FacePipeline.from_config(cfg, detector_backend=detector_backend)
    vision_log = logging.getLogger("kiosk.vision")
    level = vision_log.level
    vision_log.setLevel(logging.ERROR)  # replayed photos raise many spoof suspicions
    try:
        result = _measure(camera, pipeline, frames, warmup, detector_backend)
        result.update(_attempts(cfg, pipeline, Path(source)))
        return result
    finally:
        vision_log.setLevel(level)


def _attempts(cfg: KioskConfig, pipeline: FacePipeline, source: Path, n: int = 6) -> dict[str, Any]:
    """Time from "Ambil foto" to a decision over ``n`` replayed people, on camera time.

    Each attempt is fed frames at the camera's rate, or slower when analysis is slower than a
    frame period (the measured compute), so the figure is what a person would wait. Replayed
    stills cannot blink: where a challenge is asked it runs to its time-out, the worst case.
    """
    import random

    from kiosk.vision.capture import CaptureSettings, FaceCapture, Phase

    settings = CaptureSettings.from_config(cfg.biometrics)
    period = 1.0 / cfg.camera.fps
    people = sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else [source]
    waits: list[float] = []
    captured: list[float] = []
    outcomes: dict[str, int] = {}
    for i, person in enumerate(people[:n]):
        camera = ReplayCamera(person, width=640, height=480, hold=round(cfg.camera.fps))
        capture = FaceCapture(
            pipeline, None, started_at=0.0, settings=settings, rng=random.Random(i)
        )
        now = 0.0
        coached = None
        while capture.phase is not Phase.DONE and now <= settings.decision_s + 1.0:
            frame = camera.next_frame()
            t0 = time.perf_counter()
            status = capture.feed(type(frame)(frame.image, now, frame.seq))
            now += max(period, time.perf_counter() - t0)
            if coached is None and capture.phase is not Phase.COACHING:
                coached = status.elapsed_s
        captured.append(coached if coached is not None else now)
        outcome = capture.status.outcome.value if capture.status.outcome else "undecided"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        waits.append(status.elapsed_s if capture.phase is Phase.DONE else now)
    return {
        "capture_s_median": float(np.median(captured)) if captured else None,
        "attempt_s_median": float(np.median(waits)) if waits else None,
        "attempt_s_max": max(waits) if waits else None,
        "attempt_outcomes": outcomes,
        "decision_bound_s": settings.decision_s,
    }


def _measure(
    camera: ReplayCamera, pipeline: FacePipeline, frames: int, warmup: int, backend: str
) -> dict[str, Any]:
    reference = None
    frame_t: list[float] = []
    verify_t: list[float] = []
    raw: dict[str, list[float]] = {r: [] for r in FRAME_MODELS + VERIFY_MODELS}
    done = 0
    for i in range(warmup + frames * 3):
        image = camera.next_frame().image
        t0 = time.perf_counter()
        analysis = pipeline.analyze(image)
        t1 = time.perf_counter()
        if not analysis.usable:
            continue
        if reference is None:
            reference = pipeline.embed_analysis(analysis)
        t2 = time.perf_counter()
        pipeline.verify(analysis, reference)
        t3 = time.perf_counter()
        if i < warmup:
            continue
        frame_t.append(t1 - t0)
        verify_t.append(t3 - t2)
        for role in raw:
            model = pipeline.pack[role]
            s = time.perf_counter()
            model.invoke_only()
            raw[role].append(time.perf_counter() - s)
        done += 1
        if done >= frames:
            break
    if done < frames:
        raise CameraError(f"only {done} of {frames} replayed frames had a usable face")
    raw_ms = {r: float(np.median(v) * 1000.0) for r, v in raw.items()}
    frame, verify = _stats(frame_t), _stats(verify_t)
    frame_raw = sum(raw_ms[r] for r in FRAME_MODELS)
    verify_raw = sum(raw_ms[r] for r in VERIFY_MODELS)
    frame_ratio = frame["median"] / frame_raw
    verify_ratio = verify["median"] / verify_raw
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "machine": machine(),
        "detector_backend": backend,
        "frames": done,
        "warmup": warmup,
        "frame_ms_median": frame["median"],
        "frame_ms_p95": frame["p95"],
        "verify_ms_median": verify["median"],
        "verify_ms_p95": verify["p95"],
        "raw_invoke_ms_median": raw_ms,
        "frame_raw_ms": frame_raw,
        "verify_raw_ms": verify_raw,
        "frame_to_model_ratio": frame_ratio,
        "verify_to_model_ratio": verify_ratio,
        "pipeline_to_model_ratio": max(frame_ratio, verify_ratio),
        "peak_rss_mb": peak,
    }
