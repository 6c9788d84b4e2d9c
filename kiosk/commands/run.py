"""``kiosk run``: start the kiosk appliance (UI, camera, uplink, device) until stopped."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.config import load_config


def register(sub: Any) -> None:
    """Add the ``run`` sub-command."""
    p = sub.add_parser("run", help="run the kiosk (UI on http://127.0.0.1:8080 by default)")
    p.add_argument("--port", type=int, default=None, help="override ui.port")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from kiosk.app import serve  # the composition root; imported only when running

    cfg = load_config(args.config)
    if args.port is not None:
        cfg = cfg.model_copy(update={"ui": cfg.ui.model_copy(update={"port": args.port})})
    return serve(cfg)
