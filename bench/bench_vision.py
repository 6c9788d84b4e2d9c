"""Vision benchmark: ``python bench/bench_vision.py [--json] [--detector litert|mediapipe]``.

Same as ``kiosk bench vision``; see docs/PERFORMANCE.md for recorded results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.vision.commands import cmd_bench_vision


def main() -> int:
    """Parse the options and run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--detector", choices=("litert", "mediapipe"), default=None)
    p.add_argument("--json", action="store_true")
    return cmd_bench_vision(p.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
