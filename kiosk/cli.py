"""The ``kiosk`` command: run the kiosk, check a config, and the tools for agents and technicians.

Each area contributes its sub-commands through a ``register(subparsers)`` function listed in
:data:`COMMAND_MODULES`; this module only builds the parser and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk import __version__
from kiosk.errors import ConfigError, KioskError

COMMAND_MODULES: tuple[str, ...] = (
    "kiosk.commands.run",
    "kiosk.commands.config",
    "kiosk.commands.nik",
    "kiosk.vision.commands",
    "kiosk.uplink.commands",
    "kiosk.usb.commands",
)
"""Modules whose ``register(subparsers)`` adds sub-commands, in help order."""

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every area's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Kios Perlinsos: social-protection registration kiosk.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML configuration file (default: built-in demo settings)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(handler(args))
    except ConfigError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_FAIL
    except KioskError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
