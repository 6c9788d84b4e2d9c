"""The model pack: checksum and tensor-shape verification, and a checked ``run`` per model.

Every file is checked against ``SHA256SUMS`` and against the tensor shapes listed in
``MODEL_SPECS`` before any session starts; any problem is a :class:`ModelError` naming the file.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.errors import ModelError
from kiosk.vision.runtime import make_interpreter

SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class ModelSpec:
    """One model file and the tensor shapes the pipeline relies on."""

    role: str
    filename: str
    inputs: tuple[tuple[int, ...], ...]
    outputs: tuple[tuple[int, ...], ...]
    required: bool = True


MODEL_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "detector",
        "face_detection_short_range.tflite",
        ((1, 128, 128, 3),),
        ((1, 896, 16), (1, 896, 1)),
    ),
    ModelSpec(
        "detector_full",
        "face_detection_full_range_sparse.tflite",
        ((1, 192, 192, 3),),
        ((1, 2304, 16), (1, 2304, 1)),
    ),
    ModelSpec("mesh", "face_landmark.tflite", ((1, 192, 192, 3),), ((1, 1, 1, 1404), (1, 1, 1, 1))),
    ModelSpec("embedder", "mobilefacenet.tflite", ((1, 3, 112, 112),), ((1, 128),)),
    ModelSpec("fas_v2", "minifasnet_v2_scale2.7.tflite", ((1, 3, 80, 80),), ((1, 3),)),
    ModelSpec("fas_v1se", "minifasnet_v1se_scale4.0.tflite", ((1, 3, 80, 80),), ((1, 3),)),
)
SPECS_BY_ROLE = {s.role: s for s in MODEL_SPECS}


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sums(models_dir: Path) -> dict[str, str]:
    """Parse ``SHA256SUMS`` (``<hex>  <name>`` per line) into name -> hex digest."""
    path = models_dir / SUMS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ModelError(f"{SUMS_FILE} not found in model directory {models_dir}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ModelError(f"cannot read {path}: {err}") from err
    sums: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelError(f"{SUMS_FILE} line {n} is malformed: expected '<sha256>  <file>'")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


class Model:
    """One verified interpreter; :meth:`run` checks input shape and output finiteness."""

    def __init__(self, spec: ModelSpec, path: Path, threads: int = 2) -> None:
        self.spec = spec
        self.path = path
        self._interp = make_interpreter(path, threads)
        self._lock = threading.Lock()
        ins = self._interp.get_input_details()
        outs = self._interp.get_output_details()
        got_in = tuple(tuple(int(v) for v in d["shape"]) for d in ins)
        got_out = tuple(tuple(int(v) for v in d["shape"]) for d in outs)
        if got_in != spec.inputs or sorted(got_out) != sorted(spec.outputs):
            raise ModelError(
                f"{path.name}: unexpected tensor shapes (inputs {got_in}, outputs {got_out}); "
                f"expected inputs {spec.inputs}, outputs {spec.outputs}: wrong model file?"
            )
        if any(np.dtype(d["dtype"]) != np.float32 for d in ins):
            raise ModelError(f"{path.name}: expected a float32 input tensor")
        self._in_index = int(ins[0]["index"])
        # Order outputs as in the spec (the interpreter's order is not guaranteed).
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for d in outs:
            by_shape.setdefault(tuple(int(v) for v in d["shape"]), []).append(int(d["index"]))
        self._out_indices = [by_shape[s].pop(0) for s in spec.outputs]

    @property
    def name(self) -> str:
        """The model's file name (used in every error message)."""
        return self.path.name

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Invoke on one float32 input; returns copies of the outputs in spec order."""
        if x.shape != self.spec.inputs[0]:
            raise ModelError(f"{self.name}: input shape {x.shape}, expected {self.spec.inputs[0]}")
        with self._lock:
            self._interp.set_tensor(self._in_index, np.ascontiguousarray(x, dtype=np.float32))
            self._interp.invoke()
            outs = [self._interp.get_tensor(i).copy() for i in self._out_indices]
        for o in outs:
            if not np.all(np.isfinite(o)):
                raise ModelError(f"{self.name}: produced NaN or infinite values")
        return outs

    def invoke_only(self) -> None:
        """Run ``invoke()`` on whatever input is set (used by the benchmark for raw timing)."""
        with self._lock:
            self._interp.invoke()


class ModelPack:
    """All models of the pack, verified and loaded."""

    def __init__(self, models: dict[str, Model], models_dir: Path) -> None:
        self.models = models
        self.models_dir = models_dir

    def __getitem__(self, role: str) -> Model:
        """The model with ``role`` (e.g. 'detector', 'mesh', 'embedder', 'fas_v2')."""
        try:
            return self.models[role]
        except KeyError as err:
            raise ModelError(f"model role {role!r} is not loaded") from err

    def __contains__(self, role: object) -> bool:
        return role in self.models

    @classmethod
    def load(
        cls, models_dir: Path, threads: int = 2, roles: tuple[str, ...] | None = None
    ) -> ModelPack:
        """Verify checksums and shapes of every model (or only ``roles``) and load them."""
        models_dir = Path(models_dir)
        if not models_dir.is_dir():
            raise ModelError(f"model directory {models_dir} does not exist")
        sums = read_sums(models_dir)
        models: dict[str, Model] = {}
        for spec in MODEL_SPECS:
            if roles is not None and spec.role not in roles:
                continue
            models[spec.role] = load_model(models_dir, spec, sums, threads)
        return cls(models, models_dir)


def load_model(models_dir: Path, spec: ModelSpec, sums: dict[str, str], threads: int) -> Model:
    """Verify one model file against its checksum and spec, then load it."""
    path = models_dir / spec.filename
    if spec.filename not in sums:
        raise ModelError(f"{spec.filename}: no checksum in {models_dir / SUMS_FILE}")
    if not path.is_file():
        raise ModelError(f"{spec.filename}: model file missing from {models_dir}")
    try:
        digest = sha256_file(path)
    except OSError as err:
        raise ModelError(f"{spec.filename}: cannot read ({err.strerror})") from err
    if digest != sums[spec.filename]:
        raise ModelError(
            f"{spec.filename}: checksum mismatch (corrupt or replaced file); "
            "reinstall the model pack"
        )
    return Model(spec, path, threads)
