"""Offline evaluation of matching (ISO/IEC 19795-1 terms) and liveness (ISO/IEC 30107-3 terms).

Face images here are test fixtures; nothing is logged but counts and rates, plus (for the
liveness report only) each fixture's path, score and verdict.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.core.biometrics import LivenessBand
from kiosk.errors import ImageError, KioskError
from kiosk.vision.images import list_images, load_image
from kiosk.vision.pipeline import FacePipeline

FMR_TARGETS = (1e-2, 1e-3)


# --- pure error-rate maths --------------------------------------------------------------------


def fmr_at(impostor: np.ndarray, threshold: float) -> float:
    """False match rate: share of impostor scores at or above ``threshold``."""
    return float(np.mean(impostor >= threshold)) if impostor.size else float("nan")


def fnmr_at(genuine: np.ndarray, threshold: float) -> float:
    """False non-match rate: share of genuine scores below ``threshold``."""
    return float(np.mean(genuine < threshold)) if genuine.size else float("nan")


def _candidates(genuine: np.ndarray, impostor: np.ndarray) -> np.ndarray:
    scores = np.unique(np.concatenate([genuine, impostor]))
    return np.concatenate([scores, [np.nextafter(scores.max(), np.inf)]]) if scores.size else scores


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): where FMR and FNMR are closest (then lowest), their mean there."""
    if not genuine.size or not impostor.size:
        return float("nan"), float("nan")
    best = (math.inf, math.inf, 0.0, 0.0)
    for t in _candidates(genuine, impostor):
        a, b = fmr_at(impostor, float(t)), fnmr_at(genuine, float(t))
        key = (abs(a - b), max(a, b), (a + b) / 2.0, float(t))
        best = min(best, key)
    return best[2], best[3]


def threshold_for_fmr(genuine: np.ndarray, impostor: np.ndarray, target: float) -> float:
    """Lowest threshold whose FMR is at most ``target``."""
    for t in _candidates(genuine, impostor):
        if fmr_at(impostor, float(t)) <= target:
            return float(t)
    return math.inf


def zero_fmr_threshold(impostor: np.ndarray) -> float:
    """Lowest threshold at which no impostor pair is accepted (just above the top impostor)."""
    return float(np.nextafter(impostor.max(), np.inf)) if impostor.size else -1.0


# --- faces -----------------------------------------------------------------------------------


@dataclass
class FaceEvalReport:
    """Verification accuracy over every same-person and different-person pair of a folder."""

    images: int
    fta_images: int
    fta: float
    genuine_pairs: int
    impostor_pairs: int
    eer: float
    eer_threshold: float
    fnmr_at_fmr: dict[str, float | None]
    fmr_resolvable: dict[str, bool]
    tar_at_fmr_1e_3: float | None
    zero_fmr_threshold: float
    tar_at_zero_fmr: float
    threshold: float
    fmr_at_threshold: float
    fnmr_at_threshold: float
    plot: str | None = None
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data with the documented keys."""
        d = asdict(self)
        d["tar_at_fmr_1e-3"] = d.pop("tar_at_fmr_1e_3")
        return {k: _clean(v) for k, v in d.items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return None if not math.isfinite(v) else round(v, 6)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def embed_folder(
    pipeline: FacePipeline, root: Path
) -> tuple[list[tuple[str, np.ndarray]], list[str], int]:
    """Embed every image of ``root/<person>/``; returns (person, embedding)s, failures, count."""
    people = sorted(p for p in Path(root).iterdir() if p.is_dir())
    if not people:
        raise ImageError(f"{root}: expected one sub-folder per person")
    embs: list[tuple[str, np.ndarray]] = []
    failures: list[str] = []
    total = 0
    for person in people:
        for path in list_images(person):
            total += 1
            rel = f"{person.name}/{path.name}"
            try:
                analysis = pipeline.analyze(load_image(path))
                if not analysis.usable:
                    failures.append(f"{rel}: no usable face")
                    continue
                embs.append((person.name, pipeline.embed_analysis(analysis)))
            except KioskError as err:
                failures.append(f"{rel}: {err}")
    return embs, failures, total


def pair_scores(embs: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) cosine scores over all unordered pairs."""
    genuine: list[float] = []
    impostor: list[float] = []
    for (pa, ea), (pb, eb) in itertools.combinations(embs, 2):
        (genuine if pa == pb else impostor).append(float(np.dot(ea, eb)))
    return np.array(genuine, np.float64), np.array(impostor, np.float64)


def evaluate_faces(
    pipeline: FacePipeline, root: Path, threshold: float, plot: Path | None = None
) -> FaceEvalReport:
    """Run the pipeline over ``root`` and compute the 19795-1 style report."""
    embs, failures, total = embed_folder(pipeline, root)
    gen, imp = pair_scores(embs)
    eer, eer_t = equal_error_rate(gen, imp)
    fnmr_at_fmr: dict[str, float | None] = {}
    resolvable: dict[str, bool] = {}
    for target in FMR_TARGETS:
        key = f"{target:.0e}"
        t = threshold_for_fmr(gen, imp, target)
        fnmr_at_fmr[key] = fnmr_at(gen, t) if gen.size and imp.size else None
        resolvable[key] = imp.size * target >= 1.0
    zt = zero_fmr_threshold(imp)
    tar_3 = fnmr_at_fmr.get("1e-03")
    report = FaceEvalReport(
        images=total,
        fta_images=len(failures),
        fta=len(failures) / total if total else float("nan"),
        genuine_pairs=int(gen.size),
        impostor_pairs=int(imp.size),
        eer=eer,
        eer_threshold=eer_t,
        fnmr_at_fmr=fnmr_at_fmr,
        fmr_resolvable=resolvable,
        tar_at_fmr_1e_3=None if tar_3 is None else 1.0 - tar_3,
        zero_fmr_threshold=zt,
        tar_at_zero_fmr=1.0 - fnmr_at(gen, zt) if gen.size else float("nan"),
        threshold=threshold,
        fmr_at_threshold=fmr_at(imp, threshold),
        fnmr_at_threshold=fnmr_at(gen, threshold),
        failures=failures,
    )
    if plot is not None and gen.size and imp.size:
        write_det_plot(gen, imp, threshold, plot)
        report.plot = str(plot)
    return report


def det_points(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FMR, FNMR) over every candidate threshold; a rate of 0 is drawn at 0.5 / pairs."""
    ts = _candidates(genuine, impostor)
    f_floor, n_floor = 0.5 / impostor.size, 0.5 / genuine.size
    fmr = np.array([max(fmr_at(impostor, float(t)), f_floor) for t in ts])
    fnmr = np.array([max(fnmr_at(genuine, float(t)), n_floor) for t in ts])
    return fmr, fnmr


def write_det_plot(
    genuine: np.ndarray,
    impostor: np.ndarray,
    threshold: float,
    out: Path,
    title: str | None = None,
    high: float | None = None,
) -> None:
    """Save a DET curve (FNMR against FMR, log axes) with the configured thresholds marked.

    Drawn with matplotlib when it is installed, otherwise with OpenCV (no new dependency).
    """
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    marks = [(threshold, "match_medium")] + ([(high, "match_high")] if high is not None else [])
    points = [
        (
            max(fmr_at(impostor, t), 0.5 / impostor.size),
            max(fnmr_at(genuine, t), 0.5 / genuine.size),
            f"{name} {t:.2f}",
        )
        for t, name in marks
    ]
    heading = f"DET{': ' + title if title else ''} ({genuine.size} gen / {impostor.size} imp)"
    try:
        import matplotlib
    except ImportError:
        _det_plot_cv(genuine, impostor, points, heading, Path(out))
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmr, fnmr = det_points(genuine, impostor)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.loglog(fmr, fnmr, drawstyle="steps-post", label="DET")
    for (x, y, label), style in zip(points, ("ro", "gs"), strict=False):
        ax.plot([x], [y], style, label=label)
    ax.axvline(1e-3, color="grey", linestyle=":", linewidth=1)
    ax.text(0.02, 0.02, "rates of 0 drawn at 0.5 / pairs", transform=ax.transAxes, fontsize=8)
    ax.set_xlabel("FMR (false match rate)")
    ax.set_ylabel("FNMR (false non-match rate)")
    ax.set_title(heading, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _det_plot_cv(
    genuine: np.ndarray,
    impostor: np.ndarray,
    points: list[tuple[float, float, str]],
    heading: str,
    out: Path,
) -> None:
    """The DET curve drawn with OpenCV on log axes (used when matplotlib is absent)."""
    import cv2

    size, pad = 500, 60
    img = np.full((size, size, 3), 255, np.uint8)
    fmr, fnmr = det_points(genuine, impostor)
    lo = math.floor(math.log10(min(fmr.min(), fnmr.min())))

    def xy(f: float, n: float) -> tuple[int, int]:
        span = size - 2 * pad
        x = pad + (math.log10(f) - lo) / -lo * span
        y = size - pad - (math.log10(n) - lo) / -lo * span
        return round(x), round(y)

    for d in range(lo, 1):
        x, _ = xy(10.0**d, 1.0)
        _, y = xy(1.0, 10.0**d)
        cv2.line(img, (x, pad), (x, size - pad), (220, 220, 220), 1)
        cv2.line(img, (pad, y), (size - pad, y), (220, 220, 220), 1)
        cv2.putText(img, f"1e{d}", (x - 14, size - pad + 18), 0, 0.35, (0, 0, 0), 1)
        cv2.putText(img, f"1e{d}", (8, y + 4), 0, 0.35, (0, 0, 0), 1)
    pts = []
    for i, (f, n) in enumerate(zip(fmr, fnmr, strict=True)):
        pts.append(xy(float(f), float(n)))
        if i + 1 < len(fmr):
            pts.append(xy(float(fmr[i + 1]), float(n)))  # steps-post
    cv2.polylines(img, [np.array(pts, np.int32)], False, (200, 80, 0), 2)
    for (f, n, label), colour in zip(points, ((0, 0, 220), (0, 160, 0)), strict=False):
        cv2.circle(img, xy(f, n), 5, colour, -1)
        cv2.putText(img, label, (xy(f, n)[0] + 8, xy(f, n)[1] - 8), 0, 0.4, colour, 1)
    cv2.putText(img, heading, (pad, 30), 0, 0.45, (0, 0, 0), 1)
    cv2.putText(img, "FMR", (size // 2, size - 15), 0, 0.45, (0, 0, 0), 1)
    cv2.putText(img, "FNMR", (5, pad - 10), 0, 0.45, (0, 0, 0), 1)
    cv2.imwrite(str(out), img)


# --- liveness --------------------------------------------------------------------------------


@dataclass
class LivenessEvalReport:
    """ISO/IEC 30107-3 style presentation-attack detection results."""

    bona_fide: int
    attacks: dict[str, int]
    apcer: dict[str, float]
    apcer_max: float
    bpcer: float
    step_up_bona_fide: int
    step_up_attacks: int
    images: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {k: _clean(v) for k, v in asdict(self).items()}


def _liveness_items(root: Path) -> list[tuple[str, Path]]:
    real, spoof = Path(root) / "real", Path(root) / "spoof"
    if not real.is_dir() or not spoof.is_dir():
        raise ImageError(f"{root}: expected sub-folders real/ and spoof/")
    items = [("real", p) for p in list_images(real)]
    items += [("spoof", p) for p in list_images(spoof)]
    for kind in sorted(p for p in spoof.iterdir() if p.is_dir()):
        items += [(kind.name, p) for p in list_images(kind)]
    return items


def evaluate_liveness(pipeline: FacePipeline, root: Path) -> LivenessEvalReport:
    """Passive liveness verdict per image; APCER per attack kind and BPCER.

    An attack counts as accepted (APCER) only with the verdict 'live'; a bona fide sample
    counts as rejected (BPCER) with 'spoof' or with no usable face. 'uncertain' goes to the
    step-up challenge and is counted separately.
    """
    images: list[dict[str, Any]] = []
    for kind, path in _liveness_items(root):
        rel = str(path.relative_to(root))
        try:
            analysis = pipeline.analyze(load_image(path))
            passive = pipeline.passive_liveness(analysis) if analysis.usable else None
        except KioskError as err:
            images.append({"path": rel, "kind": kind, "score": None, "verdict": f"error: {err}"})
            continue
        score = passive.score if passive else None
        verdict = passive.band.value if passive else "no_face"
        images.append({"path": rel, "kind": kind, "score": score, "verdict": verdict})
    real = [i for i in images if i["kind"] == "real"]
    attacks = [i for i in images if i["kind"] != "real"]
    kinds = sorted({i["kind"] for i in attacks})
    apcer = {
        k: float(
            np.mean([i["verdict"] == LivenessBand.LIVE.value for i in attacks if i["kind"] == k])
        )
        for k in kinds
    }
    rejected = [
        i for i in real if i["verdict"] != LivenessBand.LIVE.value and i["verdict"] != "uncertain"
    ]
    return LivenessEvalReport(
        bona_fide=len(real),
        attacks={k: sum(i["kind"] == k for i in attacks) for k in kinds},
        apcer=apcer,
        apcer_max=max(apcer.values()) if apcer else float("nan"),
        bpcer=len(rejected) / len(real) if real else float("nan"),
        step_up_bona_fide=sum(i["verdict"] == "uncertain" for i in real),
        step_up_attacks=sum(i["verdict"] == "uncertain" for i in attacks),
        images=images,
    )
