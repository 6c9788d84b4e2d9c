"""``kiosk eval faces --conditions`` / ``eval liveness --attacks`` reports, calibration, and the
photometric helpers they rely on."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kiosk.config import REPO_ROOT
from kiosk.vision.calibrate import choose, held_out
from kiosk.vision.commands import register
from kiosk.vision.photometric import noise_sigma, stretch_luma

FACES = REPO_ROOT.parent / "shared" / "faces"
IDENTITIES = FACES / "identities"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=None)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


CONDITION_FIELDS = {
    "fta",
    "fta_probes",
    "fmr_medium",
    "fnmr_medium",
    "fmr_high",
    "fnmr_high",
    "genuine_verified",
    "tar_at_zero_fmr",
    "liveness_bpcer",
    "liveness_step_up",
    "coaching",
    "plot",
    "params",
}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("set")
    for person in ("p03", "p09"):
        shutil.copytree(IDENTITIES / person, root / person)
    return root


def test_conditions_report_has_the_fields_and_writes_a_det_plot_each(
    small_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plots = tmp_path / "plots"
    argv = ["eval", "faces", str(small_set), "--conditions", "--only", "clean,dark"]
    assert run([*argv, "--plot-dir", str(plots), "--json"]) == 0
    out = capsys.readouterr().out
    r = last_json(out)
    assert set(r["conditions"]) == {"clean", "dark"}
    for name, c in r["conditions"].items():
        assert set(c) >= CONDITION_FIELDS, name
        assert c["probes"] == 9 and c["genuine_pairs"] == 7 * 6 + 2 * 1
        assert Path(c["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert r["conditions"]["dark"]["coaching"].get("too_dark", 0) >= 7
    assert r["match_medium"] <= r["match_high"]
    assert "coaching[dark]" in out


def test_attack_report_says_it_is_not_a_certification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FACES / "liveness" / "real", tmp_path / "real")
    shutil.copy(IDENTITIES / "p03" / "img8.jpg", tmp_path / "real" / "p03.jpg")
    (tmp_path / "spoof").mkdir()
    shutil.copy(FACES / "liveness/spoof/image_F1.jpg", tmp_path / "spoof")  # not bona fide
    assert run(["eval", "liveness", str(tmp_path), "--attacks", "--json"]) == 0
    out = capsys.readouterr().out
    r = last_json(out)
    assert "not an ISO/IEC 30107-3 certification" in out and "certification" in r["note"]
    assert r["bona_fide"] == 2 and len(r["apcer"]) == 8
    assert all(n == 2 for n in r["attacks"].values())
    assert {"apcer_max", "bpcer", "step_up", "attack_fta"} <= set(r)
    assert r["bpcer"] == 0


def test_stretch_luma_spreads_a_dark_crop_and_leaves_a_flat_one() -> None:
    rng = np.random.default_rng(0)
    dark = rng.integers(10, 60, (112, 112, 3)).astype(np.uint8)
    out = stretch_luma(dark)
    assert out.min() <= 5 and out.max() >= 250
    flat = np.full((112, 112, 3), 90, np.uint8)
    assert stretch_luma(flat) is flat


def test_noise_sigma_reads_added_gaussian_noise() -> None:
    rng = np.random.default_rng(1)
    smooth = np.tile(np.linspace(50, 200, 96), (96, 1))
    assert noise_sigma(smooth) < 0.5
    assert noise_sigma(smooth + rng.normal(0, 10, smooth.shape)) == pytest.approx(10, rel=0.15)


def test_threshold_rule() -> None:
    t = choose(0.4702)
    assert (t.medium, t.high) == (0.50, 0.52)


def test_held_out_thresholds_are_judged_on_people_not_used_to_choose_them() -> None:
    rng = np.random.default_rng(2)
    centres = {p: rng.normal(0, 1, 8) for p in "abc"}
    refs, probes = [], []
    for i, p in enumerate("aabbcc"):
        v = centres[p] + rng.normal(0, 0.05, 8)
        v /= np.linalg.norm(v)
        refs.append(SimpleNamespace(person=p, index=i, reference=v))
        probes.append(SimpleNamespace(person=p, index=i, embedding=v))
    cal = held_out({"clean": probes}, refs, folds=3)
    assert [f["held_out_people"] for f in cal["folds"]] == [["a"], ["b"], ["c"]]
    for fold in cal["folds"]:
        assert fold["conditions"]["clean"]["verified"] == 1.0
        assert fold["conditions"]["clean"]["false_matches"] == 0
