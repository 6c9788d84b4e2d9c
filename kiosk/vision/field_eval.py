"""``kiosk eval faces --conditions``: matching and passive liveness under the field conditions.

Every image of ``DIR/<person>/`` is a clean *reference* (as stored) and, degraded by each row
of :data:`kiosk.vision.degrade.CONDITIONS`, a *probe* of a short burst of camera frames
(independent noise per frame, a sub-pixel shift between them: what a live camera gives).
A probe is compared with every other image's clean reference: same folder = genuine pair,
other folder = impostor pair. Only counts and rates leave this module.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.core.biometrics import LivenessBand
from kiosk.errors import KioskError
from kiosk.vision.calibrate import held_out
from kiosk.vision.degrade import CONDITIONS, Condition, camera_frame
from kiosk.vision.evaluate import (
    _clean,
    equal_error_rate,
    fmr_at,
    fnmr_at,
    zero_fmr_threshold,
)
from kiosk.vision.images import list_images, load_image
from kiosk.vision.pipeline import BestFrameKeeper, FacePipeline, FrameAnalysis

BURST = 3  # frames per probe: the capture flow's run of good frames


@dataclass
class ProbeResult:
    """One degraded probe: best frame's embedding (or None = FTA), coaching, liveness."""

    person: str
    index: int
    embedding: np.ndarray | None
    coaching: str
    liveness: str | None
    liveness_score: float | None


@dataclass
class ConditionReport:
    """19795-1 / 30107-3 style figures of one condition at the configured thresholds."""

    name: str
    what: str
    params: dict[str, Any]
    probes: int
    fta_probes: int
    fta: float
    genuine_pairs: int
    impostor_pairs: int
    eer: float
    fmr_medium: float
    fnmr_medium: float
    fmr_high: float
    fnmr_high: float
    genuine_matched: float
    genuine_verified: float
    top_impostor: float | None
    zero_fmr_threshold: float
    tar_at_zero_fmr: float
    liveness_bpcer: float
    liveness_step_up: float
    liveness_live: float
    coaching: dict[str, int]
    plot: str | None = None
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    impostor: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (no scores of single pairs)."""
        d = {k: v for k, v in vars(self).items() if k not in ("genuine", "impostor")}
        return {k: _clean(v) for k, v in d.items()}


@dataclass
class FieldReport:
    """All conditions, with the thresholds they were judged at."""

    images: int
    reference_failures: int
    match_medium: float
    match_high: float
    liveness_live: float
    liveness_spoof: float
    seed: int
    burst: int
    conditions: list[ConditionReport]
    calibration: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: settings and one entry per condition."""
        d = {k: _clean(v) for k, v in vars(self).items() if k != "conditions"}
        d["conditions"] = {c.name: c.to_json() for c in self.conditions}
        return d


@dataclass
class _Image:
    person: str
    index: int
    reference: np.ndarray | None
    frame: np.ndarray
    box: tuple[float, float, float, float] | None


def load_set(pipeline: FacePipeline, root: Path) -> list[_Image]:
    """Clean references and the camera-sized frame (with its face box) of every image."""
    people = sorted(p for p in Path(root).iterdir() if p.is_dir())
    if not people:
        from kiosk.errors import ImageError

        raise ImageError(f"{root}: expected one sub-folder per person")
    out: list[_Image] = []
    for person in people:
        for path in list_images(person):
            try:
                image = load_image(path)
            except KioskError:
                continue
            ref: np.ndarray | None = None
            try:
                a = pipeline.analyze(image)
                ref = pipeline.embed_analysis(a) if a.usable else None
            except KioskError:
                pass
            frame = camera_frame(image)
            try:
                clean = pipeline.analyze(frame)
                box = clean.box
            except KioskError:
                box = None
            out.append(_Image(person.name, len(out), ref, frame, box))
    return out


def run_probe(
    pipeline: FacePipeline, img: _Image, cond: Condition, seed: int, burst: int = BURST
) -> ProbeResult:
    """Degrade one image's frame ``burst`` times, analyse, embed the best, fuse liveness."""
    h, w = img.frame.shape[:2]
    box = img.box or (w * 0.3, h * 0.25, w * 0.4, h * 0.4)
    keeper = BestFrameKeeper()
    analyses: list[FrameAnalysis] = []
    first_coaching: str | None = None
    for k in range(burst):
        try:
            a = pipeline.analyze(cond.apply(img.frame, box, seed + img.index, k))
        except KioskError:
            continue
        first_coaching = first_coaching or a.coaching.value
        keeper.offer(a)
        if a.usable:
            analyses.append(a)
    best = keeper.best
    if best is None:
        return ProbeResult(img.person, img.index, None, first_coaching or "no_face", None, None)
    live = pipeline.passive_liveness(best, analyses)
    emb = pipeline.embed_analysis(best)
    return ProbeResult(img.person, img.index, emb, best.coaching.value, live.band.value, live.score)


def _pairs(
    probes: Sequence[ProbeResult], refs: Sequence[_Image]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    gen: list[float] = []
    imp: list[float] = []
    n_gen = n_imp = 0
    for p in probes:
        for r in refs:
            if r.index == p.index or r.reference is None:
                continue
            same = r.person == p.person
            n_gen += same
            n_imp += not same
            if p.embedding is None:
                continue
            (gen if same else imp).append(float(np.dot(p.embedding, r.reference)))
    return np.array(gen), np.array(imp), n_gen, n_imp


def condition_report(
    cond: Condition,
    probes: Sequence[ProbeResult],
    refs: Sequence[_Image],
    medium: float,
    high: float,
) -> ConditionReport:
    """Figures of one condition from its probes against the clean references."""
    gen, imp, n_gen, n_imp = _pairs(probes, refs)
    fta = sum(p.embedding is None for p in probes)
    acquired = [p for p in probes if p.liveness is not None]
    zt = zero_fmr_threshold(imp)
    eer, _ = equal_error_rate(gen, imp)

    def share(band: str) -> float:
        return sum(p.liveness == band for p in acquired) / len(acquired) if acquired else math.nan

    return ConditionReport(
        name=cond.name,
        what=cond.what,
        params=dict(cond.params),
        probes=len(probes),
        fta_probes=fta,
        fta=fta / len(probes) if probes else math.nan,
        genuine_pairs=n_gen,
        impostor_pairs=n_imp,
        eer=eer,
        fmr_medium=fmr_at(imp, medium),
        fnmr_medium=fnmr_at(gen, medium),
        fmr_high=fmr_at(imp, high),
        fnmr_high=fnmr_at(gen, high),
        # Over every genuine pair: a probe that failed to acquire verifies nobody.
        genuine_matched=float(np.sum(gen >= medium)) / n_gen if n_gen else math.nan,
        genuine_verified=float(np.sum(gen >= high)) / n_gen if n_gen else math.nan,
        top_impostor=float(imp.max()) if imp.size else None,
        zero_fmr_threshold=zt,
        tar_at_zero_fmr=float(np.sum(gen >= zt)) / n_gen if n_gen else math.nan,
        liveness_bpcer=share(LivenessBand.SPOOF.value),
        liveness_step_up=share(LivenessBand.UNCERTAIN.value),
        liveness_live=share(LivenessBand.LIVE.value),
        coaching=dict(sorted(Counter(p.coaching for p in probes).items())),
        genuine=gen,
        impostor=imp,
    )


def evaluate_conditions(
    pipeline: FacePipeline,
    root: Path,
    conditions: Sequence[Condition] = CONDITIONS,
    seed: int = 13,
    plot_dir: Path | None = None,
    burst: int = BURST,
    calibrate: bool = False,
) -> FieldReport:
    """Every condition of ``conditions`` over ``root``; DET plots into ``plot_dir``;
    with ``calibrate``, thresholds chosen by the rule on held-out folds of people."""
    from kiosk.vision.evaluate import write_det_plot

    t = pipeline.thresholds
    images = load_set(pipeline, root)
    reports: list[ConditionReport] = []
    by_condition: dict[str, list[ProbeResult]] = {}
    for cond in conditions:
        probes = [run_probe(pipeline, img, cond, seed, burst) for img in images]
        by_condition[cond.name] = probes
        rep = condition_report(cond, probes, images, t.match_medium, t.match_high)
        if plot_dir is not None and rep.genuine.size and rep.impostor.size:
            out = Path(plot_dir) / f"det-{cond.name}.png"
            write_det_plot(rep.genuine, rep.impostor, t.match_medium, out, cond.name, t.match_high)
            rep.plot = str(out)
        reports.append(rep)
    return FieldReport(
        images=len(images),
        reference_failures=sum(i.reference is None for i in images),
        match_medium=t.match_medium,
        match_high=t.match_high,
        liveness_live=t.liveness_live,
        liveness_spoof=t.liveness_spoof,
        seed=seed,
        burst=burst,
        conditions=reports,
        calibration=held_out(by_condition, images) if calibrate else None,
    )


# --- synthetic presentation attacks ------------------------------------------------------------


@dataclass
class AttackReport:
    """ISO/IEC 30107-3 style figures over synthetic attacks: APCER per kind, BPCER."""

    bona_fide: int
    bona_fide_fta: int
    bpcer: float
    bona_fide_step_up: float
    attacks: dict[str, int]
    attack_fta: dict[str, int]
    apcer: dict[str, float]
    step_up: dict[str, float]
    apcer_max: float
    liveness_live: float
    liveness_spoof: float
    seed: int
    burst: int
    note: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {k: _clean(v) for k, v in asdict(self).items()}


def bona_fide_images(root: Path) -> list[Path]:
    """Every image under ``root`` except those under a ``spoof`` folder (those are attacks)."""
    root = Path(root)
    found = [
        p
        for folder in [root, *sorted(d for d in root.rglob("*") if d.is_dir())]
        if "spoof" not in folder.relative_to(root).parts
        for p in list_images(folder)
    ]
    if not found:
        from kiosk.errors import ImageError

        raise ImageError(f"{root}: no bona fide images (outside spoof/) to make attacks from")
    return found


def _burst_verdict(
    pipeline: FacePipeline, frames: Sequence[np.ndarray]
) -> tuple[str | None, float | None]:
    keeper = BestFrameKeeper()
    usable: list[FrameAnalysis] = []
    for f in frames:
        try:
            a = pipeline.analyze(f)
        except KioskError:
            continue
        keeper.offer(a)
        if a.usable:
            usable.append(a)
    if keeper.best is None:
        return None, None
    v = pipeline.passive_liveness(keeper.best, usable)
    return v.band.value, v.score


def evaluate_attacks(
    pipeline: FacePipeline, root: Path, seed: int = 13, burst: int = BURST
) -> AttackReport:
    """Every attack kind made from every bona fide photo under ``root``, judged passively.

    An attack is accepted (APCER) only when passive liveness says 'live' (it would then skip
    the active challenge); a bona fide presentation is rejected (BPCER) when it says 'spoof'.
    'uncertain' goes to the active challenge and is reported as step-up.
    """
    from kiosk.vision.attacks import ATTACKS, NOT_A_CERTIFICATION, bona_fide_frame

    t = pipeline.thresholds
    bona: list[str | None] = []
    verdicts: dict[str, list[str | None]] = {a.name: [] for a in ATTACKS}
    for i, path in enumerate(bona_fide_images(root)):
        try:
            frame = camera_frame(load_image(path))
            a = pipeline.analyze(frame)
        except KioskError:
            bona.append(None)
            continue
        bona.append(
            _burst_verdict(pipeline, [bona_fide_frame(frame, seed + i, k) for k in range(burst)])[0]
        )
        if a.box is None:
            continue  # nothing to make an attack of
        for kind in ATTACKS:
            frames = [kind.render(frame, a.box, seed + i, k) for k in range(burst)]
            verdicts[kind.name].append(_burst_verdict(pipeline, frames)[0])

    def rate(vs: Sequence[str | None], band: str) -> float:
        return sum(v == band for v in vs) / len(vs) if vs else math.nan

    apcer = {k: rate(v, LivenessBand.LIVE.value) for k, v in verdicts.items()}
    acquired = [b for b in bona if b is not None]
    return AttackReport(
        bona_fide=len(bona),
        bona_fide_fta=sum(b is None for b in bona),
        bpcer=rate(acquired, LivenessBand.SPOOF.value),
        bona_fide_step_up=rate(acquired, LivenessBand.UNCERTAIN.value),
        attacks={k: len(v) for k, v in verdicts.items()},
        attack_fta={k: sum(x is None for x in v) for k, v in verdicts.items()},
        apcer=apcer,
        step_up={k: rate(v, LivenessBand.UNCERTAIN.value) for k, v in verdicts.items()},
        apcer_max=max(apcer.values()) if apcer else math.nan,
        liveness_live=t.liveness_live,
        liveness_spoof=t.liveness_spoof,
        seed=seed,
        burst=burst,
        note=NOT_A_CERTIFICATION,
    )
