"""Bring the portal's signed ack files back from the stick and apply them.

Each ``ack.json`` is checked like an MQTT ack (portal Ed25519 signature with a trusted portal
key, this device's id inside the signed body), then every entry goes through the one ack rule
(:func:`kiosk.uplink.acks.apply_acks`): this is the only other way, besides MQTT, that the
kiosk purges anything. Refused files and entries are reported with their reason.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.acks import apply_acks
from kiosk.uplink.inbound import Ack
from kiosk.usb.layout import ACK_FILE, StickRefused, export_dirs, parse_ack_file, read_bounded

log = logging.getLogger(__name__)


@dataclass
class AckFileResult:
    """What one ack file on the stick did (``refused`` is a reason code, or None)."""

    path: Path
    export_id: str | None = None
    refused: str | None = None
    detail: str = ""
    acked: int = 0
    dead: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    cleaned: bool = False
    """The export folder was removed from the stick (the portal holds what it acknowledged)."""


@dataclass
class AckImportResult:
    """Every ack file found on the stick."""

    files: list[AckFileResult] = field(default_factory=list)

    @property
    def acked(self) -> int:
        """Records newly acknowledged (face templates purged)."""
        return sum(f.acked for f in self.files)

    @property
    def dead(self) -> int:
        """Records the portal rejected for good."""
        return sum(f.dead for f in self.files)

    @property
    def unchanged(self) -> int:
        """Acks for records already acknowledged (an ack file read twice, or MQTT was first)."""
        return sum(f.unchanged for f in self.files)

    @property
    def unknown(self) -> int:
        """Acks for records this kiosk does not hold."""
        return sum(len(f.unknown) for f in self.files)

    @property
    def cleaned(self) -> int:
        """Export folders removed from the stick after their acks were applied."""
        return sum(f.cleaned for f in self.files)

    @property
    def refused(self) -> list[AckFileResult]:
        """Files refused as a whole."""
        return [f for f in self.files if f.refused is not None]


def import_ack_file(
    path: Path,
    repo: OutboxRepository,
    *,
    device_id: str,
    trusted: Iterable[Ed25519PublicKey],
    now: float,
) -> AckFileResult:
    """Verify one ack file and apply its acks; refusals are returned, never raised."""
    result = AckFileResult(path)
    try:
        ack = parse_ack_file(read_bounded(path), trusted)
        if ack.device_id != device_id:
            raise StickRefused("other_device", f"ack file is for kiosk {ack.device_id}")
    except StickRefused as err:
        result.refused, result.detail = err.reason, str(err)
        log.warning("ack file %s refused: %s", path.parent.name, err)
        return result
    result.export_id = ack.export_id
    outcome = apply_acks(repo, [Ack(a.record_id, a.result, a.reason) for a in ack.acks], now)
    result.acked, result.dead = len(outcome.acked), len(outcome.dead)
    result.unchanged, result.unknown = len(outcome.unchanged), outcome.unknown
    for record_id, reason in outcome.dead:
        log.error("outbox record %s is dead: %s", record_id, reason)
    if outcome.unknown:
        log.warning(
            "ack file %s: %d ack(s) for unknown records", ack.export_id, len(outcome.unknown)
        )
    return result


def import_acks(
    stick: Path,
    repo: OutboxRepository,
    *,
    device_id: str,
    trusted: Iterable[Ed25519PublicKey],
    now: float,
) -> AckImportResult:
    """Apply every ack file in this kiosk's folder on the stick (other kiosks' are left alone;
    an ack file here that names another kiosk is refused)."""
    keys = list(trusted)
    out = AckImportResult()
    for export in export_dirs(stick, device_id):
        if (export / ACK_FILE).exists():
            result = import_ack_file(
                export / ACK_FILE, repo, device_id=device_id, trusted=keys, now=now
            )
            if result.refused is None:
                result.cleaned = _clean(export)
            out.files.append(result)
    return out


def _clean(export: Path) -> bool:
    """Remove an applied export from the stick: what the portal acknowledged is held there,
    anything it did not (a damaged copy) is still in this kiosk's outbox and goes again.
    Sealed data should not ride around on a stick longer than needed (data minimisation)."""
    try:
        shutil.rmtree(export)  # never follows links: a link is removed, not its target
    except OSError as err:  # e.g. a write-protected stick: harmless, the acks are applied
        log.info("export %s left on the stick: %s", export.name, err.strerror)
        return False
    return True
