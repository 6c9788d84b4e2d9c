"""Step 4: the model pack is verified (checksums, tensor shapes) and swapped in atomically."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from provisioning.context import Context
from provisioning.models import recover
from provisioning.steps import run_step


def _rewrite_sum(pack: Path, name: str) -> None:
    digest = hashlib.sha256((pack / name).read_bytes()).hexdigest()
    lines = [
        f"{digest}  {name}" if line.endswith(f"  {name}") else line
        for line in (pack / "SHA256SUMS").read_text().splitlines()
    ]
    (pack / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_pack_installs_and_rerun_is_skipped(ctx: Context, pack_src: Path) -> None:
    out = run_step(ctx, "models", {"source": pack_src})
    assert out.status == "done", out.error
    assert _tree(ctx.layout.models) == _tree(pack_src)
    assert not ctx.layout.models_new.exists() and not ctx.layout.models_old.exists()
    assert run_step(ctx, "models", {}).status == "skipped"


@pytest.fixture
def installed(ctx: Context, pack_src: Path, tmp_path: Path) -> dict[str, bytes]:
    """A good pack already installed; returns its files to compare after a failed update."""
    good = tmp_path / "good"
    shutil.copytree(pack_src, good)
    assert run_step(ctx, "models", {"source": good}).status == "done"
    return _tree(ctx.layout.models)


def test_wrong_checksum_is_refused_and_old_pack_stays(
    ctx: Context, pack_src: Path, installed: dict[str, bytes]
) -> None:
    path = pack_src / "face_landmark.tflite"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    out = run_step(ctx, "models", {"source": pack_src}, force=True)
    assert out.status == "failed" and out.error is not None
    assert out.error.code == "checksum"
    assert "face_landmark.tflite" in out.error.problem
    assert _tree(ctx.layout.models) == installed
    assert not ctx.layout.models_new.exists()


def test_wrong_tensor_shape_is_refused_and_old_pack_stays(
    ctx: Context, pack_src: Path, installed: dict[str, bytes]
) -> None:
    shutil.copyfile(pack_src / "minifasnet_v2_scale2.7.tflite", pack_src / "mobilefacenet.tflite")
    _rewrite_sum(pack_src, "mobilefacenet.tflite")  # checksums agree: only shapes can tell
    out = run_step(ctx, "models", {"source": pack_src}, force=True)
    assert out.status == "failed" and out.error is not None
    assert out.error.code == "tensor_shape"
    assert "mobilefacenet.tflite" in out.error.problem
    assert _tree(ctx.layout.models) == installed


def test_missing_file_and_missing_sums_are_named(ctx: Context, pack_src: Path) -> None:
    (pack_src / "face_detection_short_range.tflite").unlink()
    out = run_step(ctx, "models", {"source": pack_src})
    assert out.error is not None and out.error.code == "model_missing"
    (pack_src / "SHA256SUMS").unlink()
    out = run_step(ctx, "models", {"source": pack_src})
    assert out.error is not None and out.error.code == "sums_missing"
    out = run_step(ctx, "models", {"source": pack_src.parent / "nope"})
    assert out.error is not None and out.error.code == "source_missing"


def test_interrupted_swap_is_recovered(ctx: Context, pack_src: Path) -> None:
    lay = ctx.layout
    # power cut after 'models' -> 'models.old' and before 'models.new' -> 'models'
    shutil.copytree(pack_src, lay.models_old)
    shutil.copytree(pack_src, lay.models_new)
    (lay.models_new / "mobilefacenet.tflite").write_bytes(b"half written")
    recover(lay)
    assert _tree(lay.models) == _tree(pack_src)
    assert not lay.models_new.exists() and not lay.models_old.exists()


def test_half_copied_pack_from_an_earlier_run_is_dropped(ctx: Context, pack_src: Path) -> None:
    ctx.layout.models_new.mkdir(parents=True)
    (ctx.layout.models_new / "junk.tflite").write_bytes(b"x")
    assert run_step(ctx, "models", {"source": pack_src}).status == "done"
    assert not (ctx.layout.models / "junk.tflite").exists()
