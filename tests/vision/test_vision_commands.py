"""``kiosk eval faces|liveness`` and ``kiosk bench vision`` through a small argparse harness."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.config import REPO_ROOT
from kiosk.vision.commands import register
from kiosk.vision.evaluate import equal_error_rate, fmr_at, fnmr_at, threshold_for_fmr

FACES = REPO_ROOT.parent / "shared" / "faces"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=None)
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(argv)
    return int(args.handler(args))


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_eval_faces_meets_the_accuracy_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "det.png"
    assert run(["eval", "faces", str(FACES / "identities"), "--json", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    r = last_json(out)
    for key in ("fta", "genuine_pairs", "impostor_pairs", "eer", "tar_at_fmr_1e-3", "threshold"):
        assert key in r
    assert r["fta"] == 0 and r["genuine_pairs"] == 90 and r["impostor_pairs"] == 690
    assert r["tar_at_zero_fmr"] >= 0.95
    assert r["fmr_resolvable"]["1e-03"] is False
    assert "NOT resolvable" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_faces_counts_unusable_images_as_fta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "set"
    for person in ("p03", "p09"):
        shutil.copytree(FACES / "identities" / person, root / person)
    (root / "p03" / "empty.jpg").write_bytes(b"")
    data = (FACES / "identities" / "p09" / "img25.jpg").read_bytes()
    (root / "p09" / "cut.jpg").write_bytes(data[:2000])
    Image.new("RGB", (200, 200), (90, 90, 90)).save(root / "p09" / "wall.png")
    assert run(["eval", "faces", str(root), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    r = last_json(capsys.readouterr().out)
    assert r["fta_images"] == 3 and r["images"] == 12
    assert r["genuine_pairs"] == 21 + 1 and r["impostor_pairs"] == 7 * 2


def test_eval_liveness_judges_every_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eval", "liveness", str(FACES / "liveness"), "--json"]) == 0
    r = last_json(capsys.readouterr().out)
    assert r["apcer_max"] == 0 and r["bpcer"] == 0
    assert len(r["images"]) == 3
    assert {i["verdict"] for i in r["images"] if i["kind"] == "real"} == {"live"}


def test_eval_liveness_per_attack_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(FACES / "liveness" / "real", tmp_path / "real")
    (tmp_path / "spoof" / "print").mkdir(parents=True)
    (tmp_path / "spoof" / "screen").mkdir()
    shutil.copy(FACES / "liveness/spoof/image_F1.jpg", tmp_path / "spoof/print")
    shutil.copy(FACES / "liveness/spoof/image_F2.jpg", tmp_path / "spoof/screen")
    shutil.copy(FACES / "liveness/real/image_T1.jpg", tmp_path / "spoof/screen/fake.jpg")
    assert run(["eval", "liveness", str(tmp_path), "--json"]) == 0
    r = last_json(capsys.readouterr().out)
    assert r["apcer"] == {"print": 0.0, "screen": 0.5}
    assert r["apcer_max"] == 0.5


def test_eval_liveness_needs_real_and_spoof(tmp_path: Path) -> None:
    from kiosk.errors import ImageError

    with pytest.raises(ImageError, match="real/ and spoof/"):
        run(["eval", "liveness", str(tmp_path)])


def test_error_rate_maths() -> None:
    gen = np.array([0.9, 0.8, 0.7, 0.4])
    imp = np.array([0.1, 0.2, 0.5, 0.3])
    assert fmr_at(imp, 0.45) == 0.25 and fnmr_at(gen, 0.45) == 0.25
    eer, t = equal_error_rate(gen, imp)
    assert eer == 0.25 and 0.4 < t <= 0.5
    assert threshold_for_fmr(gen, imp, 0.0) > 0.5


@pytest.mark.slow
def test_bench_vision_reports_the_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bench", "vision", "--json"]) == 0
    r = last_json(capsys.readouterr().out)
    for key in ("frame_ms_median", "verify_ms_median", "pipeline_to_model_ratio", "peak_rss_mb"):
        assert r[key] > 0
    assert r["frames"] >= 200
