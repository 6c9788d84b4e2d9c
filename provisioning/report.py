"""Step 7, the provisioning report: human text and JSON signed with the device key, kept in
``<data_dir>/provisioning/`` and queued in the outbox (sealed, kind 'audit') for the portal."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import kiosk
from kiosk.crypto.keys import key_id, load_or_create_device_key
from kiosk.errors import KioskError
from kiosk.uplink.topics import Name

from .context import Context
from .errors import StepError
from .fsutil import write_text_atomic
from .state import State
from .tomlfile import load_kiosk_config

REPORT_FORMAT = "perlinsos-provisioning-report/1"


def canonical(obj: dict[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys, compact, UTF-8): what the signature covers."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_report(ctx: Context) -> dict[str, Any]:
    """Everything the portal needs to know about this provisioning (no secrets, no PINs)."""
    cfg = load_kiosk_config(ctx.layout.config)
    state = State.load(ctx.layout.state)
    try:
        selftest = json.loads(ctx.layout.selftest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        selftest = None
    steps = {
        name: {
            "status": rec.status,
            "at": rec.at,
            **({"summary": rec.summary} if rec.summary else {}),
        }
        for name, rec in state.steps.items()
        if name != "report"
    }
    return {
        "format": REPORT_FORMAT,
        "device_id": cfg.device.id,
        "village_code": cfg.device.village_code,
        "kiosk_name": cfg.device.name,
        "location": state.inputs.get("village", {}).get("location", ""),
        "software_version": kiosk.__version__,
        "created_at": ctx.clock.now(),
        "steps": steps,
        "selftest": selftest,
    }


def sign_report(ctx: Context, report: dict[str, Any]) -> dict[str, Any]:
    """``{"report", "signature", "key_id"}`` with an Ed25519 signature by the device key."""
    key = load_or_create_device_key(ctx.data_dir)
    return {
        "report": report,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(canonical(report))).decode(),
    }


def verify_signed_report(signed: dict[str, Any], public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The report if its signature is valid under ``public_key`` (portal side, tests)."""
    try:
        public_key.verify(base64.b64decode(signed["signature"]), canonical(signed["report"]))
    except (KeyError, ValueError, InvalidSignature) as err:
        raise StepError(
            "report_signature",
            "the report's signature is not valid",
            "create the report again on the kiosk",
        ) from err
    report: dict[str, Any] = signed["report"]
    return report


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_text(report: dict[str, Any]) -> str:
    """The human-readable report a technician can read, print or photograph."""
    lines = [
        "KIOS PERLINSOS - PROVISIONING REPORT",
        "=" * 36,
        f"Device:    {report['device_id']}",
        f"Kiosk:     {report['kiosk_name']}",
        f"Village:   {report['village_code']}",
        f"Location:  {report['location'] or '-'}",
        f"Software:  {report['software_version']}",
        f"Created:   {_when(report['created_at'])}",
        "",
        "Steps:",
    ]
    for name, rec in report["steps"].items():
        lines.append(f"  [{rec['status'].upper():^7}] {name}")
    st = report.get("selftest")
    lines += ["", "Self-test:"]
    if not st:
        lines.append("  not run")
    else:
        for c in st["checks"]:
            lines.append(f"  [{c['status'].upper():^11}] {c['name']}: {c['detail']}")
        verdict = (
            "PASSED"
            if st["passed"]
            else ("FAILED" if st["failed"] else "PASSED except checks awaiting confirmation")
        )
        lines.append(f"  Overall: {verdict}")
    return "\n".join(lines) + "\n"


def queue_report(ctx: Context, signed: dict[str, Any]) -> str:
    """Seal the signed report and put it in the outbox; returns its record id."""
    from kiosk.core.ids import uuid7
    from kiosk.crypto.envelope import sealer_from_config
    from kiosk.store.db import connect
    from kiosk.store.outbox import OutboxRepository

    cfg = load_kiosk_config(ctx.layout.config)
    try:
        sealer = sealer_from_config(cfg)
    except KioskError as err:
        raise StepError(
            "report_not_sealed",
            f"cannot seal the report for the portal: {err}",
            "finish the identity step (portal public key) first",
        ) from err
    record_id = uuid7(ctx.clock.now(), os.urandom(10))
    record = {"type": "provisioning_report", **signed}
    conn = connect(ctx.layout.database)
    try:
        OutboxRepository(conn).enqueue(
            record_id, Name.AUDIT, sealer.seal(Name.AUDIT, record_id, record), ctx.clock.now()
        )
    finally:
        conn.close()
    return record_id


def send_outbox(ctx: Context, timeout_s: float = 30.0) -> int:
    """Run the uplink until the outbox is empty or ``timeout_s`` passes; returns how many wait."""
    from kiosk.uplink.service import build_uplink

    cfg = load_kiosk_config(ctx.layout.config)
    uplink = build_uplink(cfg, ctx.clock)
    uplink.start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if uplink.pending_count() == 0:
                return 0
            time.sleep(0.1)
        return uplink.pending_count()
    finally:
        uplink.stop()


def run_report(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """Write report.txt and report.json, queue the report, and (with ``send``) deliver it."""
    report = build_report(ctx)
    signed = sign_report(ctx, report)
    record_id = queue_report(ctx, signed)
    signed["record_id"] = record_id
    write_text_atomic(
        ctx.layout.report_json, json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    )
    write_text_atomic(ctx.layout.report_text, render_text(report))
    summary: dict[str, Any] = {
        "record_id": record_id,
        "json": str(ctx.layout.report_json),
        "text": str(ctx.layout.report_text),
    }
    if inputs.get("send"):
        waiting = send_outbox(ctx, float(inputs.get("send_timeout_s", 30.0)))
        summary["sent"] = waiting == 0
        if waiting:
            ctx.say(f"{waiting} record(s) still wait to be sent; the kiosk sends them when online")
    return summary


def report_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when a signed report exists (it is queued in the outbox when written)."""
    try:
        signed = json.loads(ctx.layout.report_json.read_text(encoding="utf-8"))
        key = load_or_create_device_key(ctx.data_dir)
        verify_signed_report(signed, key.public_key())
    except (OSError, ValueError, StepError):
        return False
    return True
