"""``kiosk usb export|acks``: the USB screen's two actions for a technician at the console.

Both run the same :class:`kiosk.usb.service.UsbService` job the screen runs; they print counts
and reasons only (no personal data is ever readable from the backlog anyway).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.core.clock import SystemClock
from kiosk.store.db import DB_NAME
from kiosk.usb.service import JobKind, UsbJob, UsbService


def register(sub: Any) -> None:
    """Add the ``usb`` sub-command group."""
    p = sub.add_parser("usb", help="carry the sealed backlog on a USB stick (no network)")
    usub = p.add_subparsers(dest="usb_command", metavar="ACTION", required=True)
    for name, kind, text in (
        ("export", "export", "copy every record the portal has not confirmed to the stick"),
        ("acks", "acks", "apply the portal's signed ack files from the stick (purges)"),
    ):
        a = usub.add_parser(name, help=text)
        a.add_argument("--stick", type=Path, help="mount point (default: usb.mount_point)")
        a.set_defaults(handler=_run, usb_kind=kind)


def service(args: argparse.Namespace) -> UsbService:
    """The USB service for the configured kiosk (``--stick`` overrides the mount point)."""
    from kiosk.app import build_usb

    cfg = load_config(args.config)
    if args.stick is not None:
        cfg = cfg.model_copy(update={"usb": cfg.usb.model_copy(update={"mount_point": args.stick})})
    return build_usb(cfg, SystemClock(), cfg.paths.data_dir / DB_NAME)


def _run(args: argparse.Namespace) -> int:
    kind: JobKind = args.usb_kind
    t0 = time.monotonic()
    job = service(args).run(UsbJob(kind))
    print(describe(job, time.monotonic() - t0))
    return 0 if job.state == "done" and not (job.imported and job.imported.refused) else 1


def describe(job: UsbJob, seconds: float) -> str:
    """What the job did, in one or a few lines."""
    if job.state == "failed":
        return f"USB {job.kind} failed: the stick is {job.error}"
    if job.exported is not None:
        e = job.exported
        return f"{e.count} record(s), {e.bytes} bytes, exported to {e.path} in {seconds:.1f} s"
    assert job.imported is not None
    r = job.imported
    lines = [
        f"{r.acked} record(s) acknowledged, {r.unchanged} already, {r.dead} rejected by the "
        f"portal, {r.unknown} unknown, from {len(r.files)} ack file(s); "
        f"{r.cleaned} export(s) removed from the stick"
    ]
    lines += [f"  refused {f.path}: {f.refused} ({f.detail})" for f in r.refused]
    return "\n".join(lines)
