"""Import kiosk exports from a USB stick into the portal, and write the signed ack files back.

For each export folder on the stick: the manifest's device signature is checked with the
device's enrolled key; every record's size and SHA-256 must match the manifest, then the
envelope goes through the same check as MQTT ingest (:func:`portal.intake.open_record`) and
the same storage (``PortalStore.put_many``: once per device + record id), so a replayed import
adds nothing and answers ``duplicate``. ``ack.json`` (portal-signed: device id, export id and
one result per record) is written back atomically for the kiosk to bring home.

A record whose copy on the stick is damaged (missing, cut short, altered) is left out of the
ack file: the kiosk still holds it intact and sends it again (next export, or MQTT).

    python -m portal.usb_import /media/usb --db portal.sqlite3 \\
        --private-key portal_x25519.pem --device-keys DIR --signing-key portal_ed25519.pem
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.crypto.keys import load_portal_private_key
from kiosk.crypto.keys import load_signing_private_key as load_signing_key
from kiosk.errors import CryptoError, ProtocolError, StickError
from kiosk.uplink.topics import RECORD_KINDS
from kiosk.usb.export import check_stick, stick_error, write_atomic
from kiosk.usb.layout import (
    ACK_FILE,
    MANIFEST,
    MAX_RECORD_BYTES,
    Manifest,
    StickRefused,
    export_dirs,
    parse_manifest,
    read_bounded,
    record_path,
    sha256_hex,
    sign_ack_file,
)
from portal.family_cards import SqliteFamilyIndex
from portal.intake import device_keys_from_dir, open_record
from portal.status_desk import StatusDesk
from portal.store import Incoming, PortalStore

log = logging.getLogger("portal.usb")

BATCH = 256
"""Records per database transaction (as the MQTT receiver's group commit)."""


@dataclass
class ExportReport:
    """What happened to one export folder."""

    path: Path
    device_id: str = ""
    export_id: str = ""
    refused: str | None = None
    detail: str = ""
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0
    damaged: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        """One line for the operator."""
        where = f"{self.device_id}/{self.export_id}" if self.export_id else self.path.name
        if self.refused:
            return f"{where}: REFUSED ({self.refused}) {self.detail}"
        text = (
            f"{where}: {self.stored} stored, {self.duplicate} duplicate, {self.rejected} rejected"
        )
        if self.damaged:
            text += f", {len(self.damaged)} damaged on the stick (not acknowledged: export again)"
        return text


def import_export(
    export_dir: Path,
    store: PortalStore,
    *,
    private_key: X25519PrivateKey,
    device_keys: Callable[[str], Ed25519PublicKey],
    signing_key: Ed25519PrivateKey,
    now: float,
    desk: StatusDesk | None = None,
    families: SqliteFamilyIndex | None = None,
) -> ExportReport:
    """Import one export folder and write its ack file; refusals are reported, not raised."""
    report = ExportReport(export_dir)
    try:
        manifest_bytes = read_bounded(export_dir / MANIFEST)
        manifest = _check_manifest(manifest_bytes, export_dir, device_keys)
    except StickRefused as err:
        report.refused, report.detail = err.reason, str(err)
        log.warning("export %s refused: %s", export_dir.name, err)
        return report
    report.device_id, report.export_id = manifest.device_id, manifest.export_id
    acks: list[dict[str, Any]] = []
    opened: list[Incoming] = []
    for entry in manifest.records:
        problem = None
        try:
            payload = read_bounded(record_path(export_dir, entry.record_id), MAX_RECORD_BYTES)
            if len(payload) != entry.bytes or sha256_hex(payload) != entry.sha256:
                problem = "copy on the stick does not match the manifest (cut short or altered)"
        except StickRefused as err:
            problem = str(err)
        if problem is not None:
            report.damaged.append((entry.record_id, problem))
            continue
        if entry.kind not in RECORD_KINDS:  # as on MQTT, where only these topics carry records
            reason = f"unknown record kind {entry.kind!r}"
            store.reject(manifest.device_id, entry.record_id, f"usb: {reason}", now)
            acks.append({"record_id": entry.record_id, "result": "rejected", "reason": reason})
            report.rejected += 1
            continue
        try:
            opened.append(
                open_record(
                    payload,
                    device_id=manifest.device_id,
                    kind=entry.kind,
                    record_id=entry.record_id.encode(),
                    private_key=private_key,
                    device_keys=device_keys,
                )
            )
        except (CryptoError, ProtocolError) as err:
            store.reject(manifest.device_id, entry.record_id, f"usb: {err}", now)
            acks.append({"record_id": entry.record_id, "result": "rejected", "reason": str(err)})
            report.rejected += 1
    for i in range(0, len(opened), BATCH):
        part = opened[i : i + BATCH]
        fresh = store.put_many(part, now)
        stored = [
            (n.device_id, n.record_id, n.kind, n.record)
            for n, f in zip(part, fresh, strict=True)
            if f
        ]
        if desk is not None:  # status index and objections, as over MQTT
            desk.on_records(stored)
        if families is not None:  # family card queries, as over MQTT
            families.on_records(stored)
        for inc, new in zip(part, fresh, strict=True):
            acks.append({"record_id": inc.record_id, "result": "stored" if new else "duplicate"})
            report.stored += new
            report.duplicate += not new
    body = {
        "device_id": manifest.device_id,
        "export_id": manifest.export_id,
        "manifest_sha256": sha256_hex(manifest_bytes),
        "issued_at": now,
        "acks": acks,
    }
    try:
        write_atomic(export_dir / ACK_FILE, sign_ack_file(body, signing_key))
    except OSError as err:  # records are stored: importing again rewrites the ack file
        mapped = stick_error(err, export_dir)
        report.refused, report.detail = f"ack_not_written_{mapped.code}", str(mapped)
    return report


def _check_manifest(
    data: bytes, export_dir: Path, device_keys: Callable[[str], Ed25519PublicKey]
) -> Manifest:
    unverified = parse_manifest(data)
    if unverified.export_id != export_dir.name or unverified.device_id != export_dir.parent.name:
        raise StickRefused("misplaced", "manifest does not belong to the folder it is in")
    try:
        key = device_keys(unverified.device_id)
    except CryptoError as err:
        raise StickRefused("unknown_device", str(err)) from err
    return parse_manifest(data, key)


def import_stick(
    stick: Path,
    store: PortalStore,
    *,
    private_key: X25519PrivateKey,
    device_keys: Callable[[str], Ed25519PublicKey],
    signing_key: Ed25519PrivateKey,
    clock: Callable[[], float] = time.time,
    desk: StatusDesk | None = None,
    families: SqliteFamilyIndex | None = None,
) -> list[ExportReport]:
    """Import every export on the stick (every kiosk's), oldest first."""
    return [
        import_export(
            d,
            store,
            private_key=private_key,
            device_keys=device_keys,
            signing_key=signing_key,
            now=clock(),
            desk=desk,
            families=families,
        )
        for d in export_dirs(stick)
    ]


def main(argv: list[str] | None = None) -> int:
    """Import a stick; exit 0 when every export was imported, 1 when one was refused."""
    p = argparse.ArgumentParser(
        prog="python -m portal.usb_import",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stick", type=Path, help="mount point of the USB stick")
    p.add_argument("--db", type=Path, required=True, help="portal database (SQLite)")
    p.add_argument("--private-key", type=Path, required=True, help="portal X25519 key, PEM")
    p.add_argument("--device-keys", type=Path, required=True, help="dir of <device_id>.pem")
    p.add_argument("--signing-key", type=Path, required=True, help="portal Ed25519 key, PEM")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        check_stick(args.stick, require_mount=False)
        private_key = load_portal_private_key(args.private_key)
        signing_key = load_signing_key(args.signing_key)
    except (StickError, CryptoError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    store = PortalStore(args.db)
    desk = StatusDesk(args.db, signing_key)
    families = SqliteFamilyIndex(args.db)
    try:
        reports = import_stick(
            args.stick,
            store,
            private_key=private_key,
            device_keys=device_keys_from_dir(args.device_keys),
            signing_key=signing_key,
            desk=desk,
            families=families,
        )
    finally:
        store.close()
        desk.close()
        families.close()
    if not reports:
        print(f"no kiosk export found on {args.stick}")
    for r in reports:
        print(r.line())
    return 1 if any(r.refused for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
