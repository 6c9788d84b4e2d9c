"""Step 4, model pack: copy to ``models.new``, verify every file against ``SHA256SUMS`` and the
expected tensor shapes, then swap it in (the old pack stays until the new one is verified)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError
from kiosk.store.files import fsync_dir
from kiosk.vision.models import MODEL_SPECS, SUMS_FILE, load_model, read_sums, sha256_file

from .context import Context
from .errors import StepError
from .fsutil import remove_tree
from .layout import Layout

_FIX_COPY = (
    "copy the model pack again from the original USB stick or download (all files and "
    "SHA256SUMS together); if it fails again the stick itself is damaged"
)


def verify_pack(directory: Path) -> dict[str, str]:
    """Check every file listed in SHA256SUMS and every model's tensor shapes; returns the sums."""
    try:
        sums = read_sums(directory)
    except ModelError as err:
        raise StepError("sums_missing", f"model pack at {directory}: {err}", _FIX_COPY) from err
    for spec in MODEL_SPECS:
        if spec.required and spec.filename not in sums:
            raise StepError(
                "model_missing",
                f"{spec.filename} is not listed in {SUMS_FILE}",
                "use the complete model pack for this software version",
            )
    for name, expected in sorted(sums.items()):
        path = directory / name
        if not path.is_file():
            raise StepError(
                "model_missing", f"{name} is listed in {SUMS_FILE} but missing", _FIX_COPY
            )
        if sha256_file(path) != expected:
            raise StepError(
                "checksum",
                f"{name}: checksum does not match {SUMS_FILE} (file corrupt or replaced)",
                _FIX_COPY,
            )
    for spec in MODEL_SPECS:
        if spec.filename not in sums:
            continue
        try:
            load_model(directory, spec, sums, threads=1)
        except ModelError as err:
            code = "tensor_shape" if "tensor shapes" in str(err) else "model_invalid"
            raise StepError(
                code,
                str(err),
                "this is not the model this software expects: install the model pack that "
                "belongs to this software version",
            ) from err
    return sums


def _copy(src: Path, dst: Path) -> None:
    remove_tree(dst)
    try:
        shutil.copytree(src, dst, symlinks=False, copy_function=shutil.copyfile)
    except (OSError, shutil.Error) as err:
        remove_tree(dst)
        raise StepError(
            "copy_failed",
            f"copying the model pack from {src} failed: {err}",
            "check free space (df -h /data) and the USB stick, then retry",
        ) from err
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            with open(Path(root) / f, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(Path(root) / f, 0o644)


def recover(layout: Layout) -> None:
    """Finish or undo a swap that a power cut interrupted; drop a half-copied ``models.new``."""
    if not layout.models.exists() and layout.models_old.is_dir():
        os.replace(layout.models_old, layout.models)
    remove_tree(layout.models_old)
    remove_tree(layout.models_new)


def install_pack(layout: Layout, source: Path) -> dict[str, str]:
    """Copy, verify and atomically install the pack at ``source``; returns its sums."""
    if not source.is_dir():
        raise StepError(
            "source_missing",
            f"model pack folder {source} does not exist",
            "mount the USB stick and pass the folder that holds SHA256SUMS",
        )
    recover(layout)
    verify_pack(source)  # fail fast on a bad stick before copying anything
    _copy(source, layout.models_new)
    try:
        sums = verify_pack(layout.models_new)  # what was written is what gets installed
    except StepError:
        remove_tree(layout.models_new)
        raise
    if layout.models.exists():
        os.replace(layout.models, layout.models_old)
    os.replace(layout.models_new, layout.models)
    fsync_dir(layout.data_dir)
    remove_tree(layout.models_old)
    return sums


def installed_sums(layout: Layout) -> dict[str, str] | None:
    """The installed pack's sums if every file still matches them, else None."""
    try:
        sums = read_sums(layout.models)
    except ModelError:
        return None
    for name, expected in sums.items():
        path = layout.models / name
        if not path.is_file() or sha256_file(path) != expected:
            return None
    return sums


def run_models(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """Install the pack from ``inputs['source']``."""
    if not inputs.get("source"):
        raise StepError(
            "source_missing",
            "no model pack folder given",
            "pass --from /media/usb/models (the folder with SHA256SUMS)",
        )
    sums = install_pack(ctx.layout, Path(inputs["source"]))
    return {"files": len(sums), "sha256sums": sha256_file(ctx.layout.models / SUMS_FILE)}


def models_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when the installed pack is intact and (if the source is readable) the same pack."""
    installed = installed_sums(ctx.layout)
    if installed is None:
        return False
    source = inputs.get("source")
    if source and (Path(source) / SUMS_FILE).is_file():
        try:
            return read_sums(Path(source)) == installed
        except ModelError:
            return True
    return True
