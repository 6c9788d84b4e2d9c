"""Model pack verification: checksums, tensor shapes, and NaN/inf outputs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from kiosk.config import parse_config
from kiosk.errors import ModelError
from kiosk.vision.models import MODEL_SPECS, ModelPack
from kiosk.vision.pipeline import FacePipeline


def _rewrite_sum(pack_dir: Path, name: str) -> None:
    digest = hashlib.sha256((pack_dir / name).read_bytes()).hexdigest()
    lines = []
    for line in (pack_dir / "SHA256SUMS").read_text().splitlines():
        lines.append(f"{digest}  {name}" if line.endswith(f"  {name}") else line)
    (pack_dir / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def test_real_pack_loads_with_expected_shapes(pack: ModelPack) -> None:
    for spec in MODEL_SPECS:
        assert pack[spec.role].name == spec.filename
    with pytest.raises(ModelError, match="not loaded"):
        pack["nonexistent"]


def test_missing_model_file_names_the_file(pack_copy: Path) -> None:
    (pack_copy / "mobilefacenet.tflite").unlink()
    with pytest.raises(ModelError, match=r"mobilefacenet\.tflite: model file missing"):
        ModelPack.load(pack_copy)


def test_corrupt_model_file_is_a_checksum_error(pack_copy: Path) -> None:
    path = pack_copy / "face_landmark.tflite"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"face_landmark\.tflite: checksum mismatch"):
        ModelPack.load(pack_copy)


def test_swapped_model_is_caught_by_checksum(pack_copy: Path) -> None:
    shutil.copy(pack_copy / "minifasnet_v2_scale2.7.tflite", pack_copy / "mobilefacenet.tflite")
    with pytest.raises(ModelError, match=r"mobilefacenet\.tflite: checksum mismatch"):
        ModelPack.load(pack_copy)


def test_swapped_model_with_matching_sums_is_caught_by_shapes(pack_copy: Path) -> None:
    shutil.copy(pack_copy / "minifasnet_v2_scale2.7.tflite", pack_copy / "mobilefacenet.tflite")
    _rewrite_sum(pack_copy, "mobilefacenet.tflite")
    with pytest.raises(ModelError, match=r"mobilefacenet\.tflite: unexpected tensor shapes"):
        ModelPack.load(pack_copy)


def test_garbage_model_with_matching_sums_is_a_clear_error(pack_copy: Path) -> None:
    (pack_copy / "face_detection_short_range.tflite").write_bytes(b"not a flatbuffer" * 100)
    _rewrite_sum(pack_copy, "face_detection_short_range.tflite")
    with pytest.raises(ModelError, match=r"face_detection_short_range\.tflite"):
        ModelPack.load(pack_copy)


def test_missing_or_malformed_sums(pack_copy: Path, tmp_path: Path) -> None:
    (pack_copy / "SHA256SUMS").write_text("abc  mobilefacenet.tflite\n")
    with pytest.raises(ModelError, match="malformed"):
        ModelPack.load(pack_copy)
    (pack_copy / "SHA256SUMS").unlink()
    with pytest.raises(ModelError, match="SHA256SUMS not found"):
        ModelPack.load(pack_copy)
    with pytest.raises(ModelError, match="does not exist"):
        ModelPack.load(tmp_path / "nowhere")


def test_unlisted_model_is_refused(pack_copy: Path) -> None:
    sums = pack_copy / "SHA256SUMS"
    kept = [ln for ln in sums.read_text().splitlines() if "face_landmark" not in ln]
    sums.write_text("\n".join(kept) + "\n")
    with pytest.raises(ModelError, match=r"face_landmark\.tflite: no checksum"):
        ModelPack.load(pack_copy)


def test_from_config_reports_the_broken_file(pack_copy: Path, tmp_path: Path) -> None:
    (pack_copy / "minifasnet_v1se_scale4.0.tflite").unlink()
    cfg = parse_config({"paths": {"data_dir": str(tmp_path), "models_dir": str(pack_copy)}})
    with pytest.raises(ModelError, match=r"minifasnet_v1se_scale4\.0\.tflite"):
        FacePipeline.from_config(cfg)


def test_non_finite_model_output_is_a_model_error(pack: ModelPack) -> None:
    x = np.full((1, 3, 112, 112), np.nan, np.float32)
    with pytest.raises(ModelError, match=r"mobilefacenet\.tflite: produced NaN"):
        pack["embedder"].run(x)


def test_wrong_input_shape_is_a_model_error(pack: ModelPack) -> None:
    with pytest.raises(ModelError, match="input shape"):
        pack["mesh"].run(np.zeros((1, 128, 128, 3), np.float32))


def test_runtime_falls_back_then_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.vision import runtime

    monkeypatch.setattr(
        runtime, "_RUNTIMES", ("no_such_litert.interpreter", "ai_edge_litert.interpreter")
    )
    assert runtime.interpreter_class().__module__.startswith("ai_edge_litert")
    monkeypatch.setattr(
        runtime, "_RUNTIMES", ("no_such_litert.interpreter", "no_tflite.interpreter")
    )
    with pytest.raises(ModelError, match="no TFLite runtime installed"):
        runtime.interpreter_class()
