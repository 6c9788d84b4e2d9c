"""``kiosk config check FILE`` and ``kiosk config show``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.config import load_config, reference_markdown


def register(sub: Any) -> None:
    """Add the ``config`` sub-command."""
    p = sub.add_parser("config", help="check or show a configuration file")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate FILE and list every problem")
    check.add_argument("file", type=Path, help="TOML configuration file")
    check.set_defaults(handler=_check)
    show = csub.add_parser("show", help="print the effective configuration as JSON")
    show.set_defaults(handler=_show)
    ref = csub.add_parser("reference", help="print the configuration reference (Markdown)")
    ref.set_defaults(handler=_reference)


def _check(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)  # ConfigError -> listed problems, exit 1 (see kiosk.cli)
    print(f"{args.file}: OK (device {cfg.device.id}, village {cfg.device.village_code})")
    return 0


def _show(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print(json.dumps(cfg.model_dump(mode="json"), indent=2))
    return 0


def _reference(args: argparse.Namespace) -> int:
    print(reference_markdown(), end="")
    return 0
