"""``kiosk eval faces|liveness DIR`` and ``kiosk bench vision``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.vision.pipeline import FacePipeline


def _nested(sub: Any, name: str, help_text: str) -> Any:
    """The sub-command group ``name`` (created here, or reused if another area made it)."""
    parser = sub.choices.get(name) if hasattr(sub, "choices") else None
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
        parser.set_defaults(handler=lambda args: _usage(parser))
    group = getattr(parser, "_kiosk_group", None)
    if group is None:
        group = parser.add_subparsers(dest=f"{name}_what", metavar="WHAT")
        parser._kiosk_group = group
    return group


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def register(sub: Any) -> None:
    """Add ``eval faces``, ``eval liveness`` and ``bench vision`` to a subparsers object."""
    ev = _nested(sub, "eval", "offline accuracy reports")
    faces = ev.add_parser("faces", help="matching accuracy over DIR/<person>/ images")
    faces.add_argument("dir", type=Path, help="folder with one sub-folder per person")
    faces.add_argument("--json", action="store_true", help="end with one JSON line")
    faces.add_argument(
        "--plot", type=Path, default=Path("eval-faces-det.png"), help="DET plot PNG to write"
    )
    faces.add_argument(
        "--conditions",
        action="store_true",
        help="degrade probes by each field condition (references stay clean); "
        "one DET plot per condition in --plot-dir",
    )
    faces.add_argument(
        "--only", default=None, help="with --conditions: comma-separated condition names"
    )
    faces.add_argument(
        "--plot-dir", type=Path, default=Path("eval-conditions"), help="DET plots (--conditions)"
    )
    faces.add_argument("--seed", type=int, default=13, help="seed of the degradations")
    faces.add_argument(
        "--calibrate",
        action="store_true",
        help="with --conditions: choose match thresholds by the documented rule on held-out "
        "folds of people and report how they fare on the people held out",
    )
    faces.set_defaults(handler=cmd_eval_faces)
    live = ev.add_parser("liveness", help="liveness APCER/BPCER over DIR/real and DIR/spoof")
    live.add_argument("dir", type=Path, help="folder with real/ and spoof/[<attack kind>/]")
    live.add_argument("--json", action="store_true", help="end with one JSON line")
    live.add_argument(
        "--attacks",
        action="store_true",
        help="make synthetic screen/print attacks from every bona fide image under DIR "
        "(outside spoof/) and report APCER per attack kind and BPCER",
    )
    live.add_argument("--seed", type=int, default=13, help="seed of the synthetic attacks")
    live.set_defaults(handler=cmd_eval_liveness)
    bench = _nested(sub, "bench", "performance benchmarks")
    vision = bench.add_parser("vision", help="face pipeline timings on the replay camera")
    vision.add_argument("--frames", type=int, default=200, help="measured frames (>= 200)")
    vision.add_argument(
        "--detector",
        choices=("litert", "mediapipe"),
        default=None,
        help="detector backend (default: biometrics.detector of the config)",
    )
    vision.add_argument("--json", action="store_true", help="end with one JSON line")
    vision.set_defaults(handler=cmd_bench_vision)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def cmd_eval_faces(args: argparse.Namespace) -> int:
    """Print the face matching report; exit 0."""
    from kiosk.vision.evaluate import evaluate_faces

    cfg = load_config(getattr(args, "config", None))
    pipeline = FacePipeline.from_config(cfg)
    if getattr(args, "conditions", False):
        return _eval_conditions(args, pipeline)
    threshold = cfg.biometrics.match_medium
    r = evaluate_faces(pipeline, args.dir, threshold, args.plot)
    print(f"images: {r.images}, failure to acquire: {r.fta_images} ({_pct(r.fta)})")
    for f in r.failures:
        print(f"  FTA {f}")
    print(f"pairs: {r.genuine_pairs} genuine, {r.impostor_pairs} impostor")
    print(f"EER: {_pct(r.eer)} (threshold {r.eer_threshold:.3f})")
    for key, v in r.fnmr_at_fmr.items():
        note = "" if r.fmr_resolvable[key] else " (NOT resolvable: too few impostor pairs)"
        print(f"FNMR at FMR {key}: {_pct(v)}{note}")
    print(f"TAR at zero FMR (threshold {r.zero_fmr_threshold:.3f}): {_pct(r.tar_at_zero_fmr)}")
    print(
        f"at the configured threshold {threshold:.2f} (MEDIUM band or better = match): "
        f"FMR {_pct(r.fmr_at_threshold)}, FNMR {_pct(r.fnmr_at_threshold)}"
    )
    if r.plot:
        print(f"DET plot: {r.plot}")
    if args.json:
        print(json.dumps(r.to_json(), sort_keys=True))
    return 0


def _eval_conditions(args: argparse.Namespace, pipeline: FacePipeline) -> int:
    from kiosk.vision.degrade import CONDITIONS, condition
    from kiosk.vision.field_eval import evaluate_conditions

    conds = tuple(condition(n.strip()) for n in args.only.split(",")) if args.only else CONDITIONS
    r = evaluate_conditions(
        pipeline, args.dir, conds, seed=args.seed, plot_dir=args.plot_dir, calibrate=args.calibrate
    )
    print(
        f"images: {r.images} ({r.reference_failures} without a clean reference); probes "
        f"degraded, references clean; burst of {r.burst} frames per probe; seed {r.seed}"
    )
    print(
        f"thresholds: match_medium {r.match_medium:.2f} (match), match_high "
        f"{r.match_high:.2f} (verified); liveness live >= {r.liveness_live:.2f}, "
        f"spoof < {r.liveness_spoof:.2f}"
    )
    head = (
        f"{'condition':<12} {'FTA':>7} {'FMR@med':>8} {'FNMR@med':>8} {'FNMR@high':>9} "
        f"{'verified':>8} {'TAR@0FMR':>8} {'top imp':>7} {'BPCER':>7} {'step-up':>7}"
    )
    print(head)
    for c in r.conditions:
        top = "n/a" if c.top_impostor is None else f"{c.top_impostor:.3f}"
        print(
            f"{c.name:<12} {_pct(c.fta):>7} {_pct(c.fmr_medium):>8} {_pct(c.fnmr_medium):>8} "
            f"{_pct(c.fnmr_high):>9} {_pct(c.genuine_verified):>8} "
            f"{_pct(c.tar_at_zero_fmr):>8} {top:>7} {_pct(c.liveness_bpcer):>7} "
            f"{_pct(c.liveness_step_up):>7}"
        )
    for c in r.conditions:
        coach = ", ".join(f"{k} {v}" for k, v in c.coaching.items())
        print(f"coaching[{c.name}]: {coach}")
    plots = [c.plot for c in r.conditions if c.plot]
    if plots:
        print(f"DET plots: {len(plots)} in {args.plot_dir}")
    print(
        "verified = genuine pairs in the HIGH band over all genuine pairs (an FTA probe "
        "verifies nobody); BPCER = bona fide probes called 'spoof' on passive liveness; "
        "step-up = 'uncertain', asked for the active challenge"
    )
    if r.calibration:
        _print_calibration(r.calibration)
    if args.json:
        print(json.dumps(r.to_json(), sort_keys=True))
    return 0


def cmd_eval_liveness(args: argparse.Namespace) -> int:
    """Print the liveness report; exit 0."""
    from kiosk.vision.evaluate import evaluate_liveness

    cfg = load_config(getattr(args, "config", None))
    if getattr(args, "attacks", False):
        return _eval_attacks(args, FacePipeline.from_config(cfg))
    r = evaluate_liveness(FacePipeline.from_config(cfg), args.dir)
    for item in r.images:
        score = "  n/a" if item["score"] is None else f"{item['score']:.3f}"
        print(f"{item['kind']:>10}  {score}  {item['verdict']:<10} {item['path']}")
    for kind, v in r.apcer.items():
        print(f"APCER[{kind}] = {_pct(v)} ({r.attacks[kind]} attacks)")
    print(f"APCER max = {_pct(r.apcer_max)}; BPCER = {_pct(r.bpcer)} ({r.bona_fide} bona fide)")
    print(f"step-up challenges: {r.step_up_bona_fide} bona fide, {r.step_up_attacks} attacks")
    if args.json:
        print(json.dumps(r.to_json(), sort_keys=True))
    return 0


def _print_calibration(cal: dict[str, Any]) -> None:
    print(f"calibration rule: {cal['rule']}")
    for fold in cal["folds"]:
        conds = fold["conditions"]
        fm = sum(c["false_matches"] for c in conds.values())
        imp = sum(c["impostor_pairs"] for c in conds.values())
        worst = min(conds.items(), key=lambda kv: kv[1]["verified"])
        print(
            f"  held out {','.join(fold['held_out_people'])}: medium {fold['medium']:.2f} "
            f"high {fold['high']:.2f}; false matches {fm} of {imp} held-out impostor pairs; "
            f"verified "
            + ", ".join(f"{k} {_pct(v['verified'])}" for k, v in conds.items())
            + f" (worst {worst[0]})"
        )
    print(
        f"on all people: top impostor {cal['top_impostor']:.3f} -> match_medium "
        f"{cal['match_medium']:.2f}, match_high {cal['match_high']:.2f}"
    )


def _eval_attacks(args: argparse.Namespace, pipeline: FacePipeline) -> int:
    from kiosk.vision.field_eval import evaluate_attacks

    r = evaluate_attacks(pipeline, args.dir, seed=args.seed)
    print(f"NOTE: {r.note}")
    print(
        f"passive liveness: live >= {r.liveness_live:.2f}, spoof < {r.liveness_spoof:.2f}; "
        f"burst of {r.burst} frames; seed {r.seed}"
    )
    print(f"{'attack kind':<20} {'n':>4} {'APCER':>8} {'step-up':>8} {'no face':>7}")
    for kind, v in r.apcer.items():
        print(
            f"{kind:<20} {r.attacks[kind]:>4} {_pct(v):>8} {_pct(r.step_up[kind]):>8} "
            f"{r.attack_fta[kind]:>7}"
        )
    print(f"APCER max = {_pct(r.apcer_max)} (attacks judged 'live': they would skip the challenge)")
    print(
        f"BPCER = {_pct(r.bpcer)} ({r.bona_fide} bona fide, {r.bona_fide_fta} without a face; "
        f"'spoof' on passive); step-up {_pct(r.bona_fide_step_up)} asked for the challenge"
    )
    if args.json:
        print(json.dumps(r.to_json(), sort_keys=True))
    return 0


def cmd_bench_vision(args: argparse.Namespace) -> int:
    """Print the vision benchmark; exit 0."""
    from kiosk.vision.bench import run_bench

    cfg = load_config(getattr(args, "config", None))
    r = run_bench(cfg, frames=max(200, args.frames), detector_backend=args.detector)
    m = r["machine"]
    print(
        f"machine: {m['cpu']} ({m['cores']} cores, {m['arch']}), runtime {m['runtime']}, "
        f"1-min load average {m['load_avg_1m']:.2f}"
    )
    print(f"frames: {r['frames']} after {r['warmup']} warm-up, detector {r['detector_backend']}")
    print(
        f"per-frame (detect+mesh+quality): median {r['frame_ms_median']:.2f} ms, "
        f"p95 {r['frame_ms_p95']:.2f} ms; raw models {r['frame_raw_ms']:.2f} ms; "
        f"ratio {r['frame_to_model_ratio']:.2f}"
    )
    print(
        f"verify (liveness+embed+match): median {r['verify_ms_median']:.2f} ms, "
        f"p95 {r['verify_ms_p95']:.2f} ms; raw models {r['verify_raw_ms']:.2f} ms; "
        f"ratio {r['verify_to_model_ratio']:.2f}"
    )
    raws = ", ".join(f"{k} {v:.2f}" for k, v in r["raw_invoke_ms_median"].items())
    print(f"raw invoke() medians, ms: {raws}")
    print(f"peak RSS: {r['peak_rss_mb']:.0f} MB")
    if r.get("attempt_s_median") is not None:
        print(
            f"'Ambil foto' to passive check: median {r['capture_s_median']:.2f} s; "
            f"to decision (camera time): median {r['attempt_s_median']:.1f} s, "
            f"max {r['attempt_s_max']:.1f} s, bound {r['decision_bound_s']:.0f} s; "
            f"outcomes {r['attempt_outcomes']}"
        )
    if args.json:
        print(json.dumps(r, sort_keys=True))
    return 0
