"""The TFLite interpreter: ``ai-edge-litert``, else ``tflite_runtime`` where that is all."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from kiosk.errors import ModelError

_RUNTIMES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


def interpreter_class() -> Any:
    """The first importable ``Interpreter`` class of the supported runtimes."""
    problems = []
    for name in _RUNTIMES:
        try:
            return importlib.import_module(name).Interpreter
        except ImportError as err:
            problems.append(f"{name}: {err}")
    raise ModelError("no TFLite runtime installed (" + "; ".join(problems) + ")")


def make_interpreter(path: Path, threads: int = 2) -> Any:
    """Load ``path`` into a new interpreter with ``threads`` CPU threads and allocate tensors."""
    cls = interpreter_class()
    try:
        interp = cls(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise ModelError(f"{path.name}: not a loadable TFLite model ({err})") from err
    return interp
