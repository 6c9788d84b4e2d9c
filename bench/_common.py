"""What the benches share: the checkout on ``sys.path``, timing, one quantile rule, the output.

A bench runs as ``python bench/<name>.py`` (so this folder is on ``sys.path``); importing this
module first puts the checkout beside it, so ``kiosk`` and the rest import from the tree.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The checkout this bench belongs to."""

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank (the same rule in every bench)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def samples_ms(fn: Callable[[], object], rounds: int) -> list[float]:
    """Wall milliseconds of each of ``rounds`` calls of ``fn``."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def timed(
    fn: Callable[[], object], rounds: int, *, digits: int = 2, suffix: str = ""
) -> dict[str, float]:
    """p50/p95/max milliseconds of ``rounds`` calls (keys end in ``suffix``, e.g. "_ms")."""
    ms = samples_ms(fn, rounds)
    return {
        f"p50{suffix}": round(statistics.median(ms), digits),
        f"p95{suffix}": round(quantile(ms, 0.95), digits),
        f"max{suffix}": round(max(ms), digits),
    }


def emit(result: Mapping[str, Any], as_json: bool, *, width: int = 20, **dumps: Any) -> None:
    """Print ``result`` as JSON, or one ``name value`` line per entry."""
    if as_json:
        print(json.dumps(result, **dumps))
        return
    for key, value in result.items():
        print(f"{key:{width}} {value}")
