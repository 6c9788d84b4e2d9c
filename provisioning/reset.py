"""Factory reset / deprovision: crypto-shred the keys, then remove the database and state.

Destroying ``keys/`` first makes whatever might survive on flash unreadable: templates and
references are sealed with ``data.key``, outbox records are sealed to the portal and signed with
the device key. Records still waiting to be sent would be lost, so the reset refuses unless
``force`` is given, and says how many wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .context import Context
from .errors import StepError
from .fsutil import remove_tree, shred
from .network import WIFI_CONNECTION_ID


@dataclass
class ResetResult:
    """What the reset destroyed and removed."""

    waiting_lost: int = 0
    shredded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def waiting_records(ctx: Context) -> int:
    """Outbox records the portal does not hold yet (0 when there is no database)."""
    if not ctx.layout.database.is_file():
        return 0
    from kiosk.errors import KioskError
    from kiosk.store.db import connect
    from kiosk.store.outbox import OutboxRepository

    try:
        conn = connect(ctx.layout.database)
    except KioskError:
        return 0
    try:
        return OutboxRepository(conn).counts().waiting
    finally:
        conn.close()


def factory_reset(ctx: Context, *, force: bool = False, keep_models: bool = False) -> ResetResult:
    """Shred every key, remove database, config, state, Wi-Fi profile (and models unless kept)."""
    layout = ctx.layout
    markers = (layout.config, layout.keys, layout.database, layout.prov, layout.models)
    if not any(m.exists() for m in markers):
        raise StepError(
            "not_a_data_dir",
            f"{ctx.data_dir} does not look like a kiosk data directory (no kiosk.toml, keys, "
            "database or provisioning folder); nothing was touched",
            "check --data-dir (the default is /data/kiosk)",
        )
    waiting = waiting_records(ctx)
    if waiting and not force:
        raise StepError(
            "records_waiting",
            f"{waiting} record(s) have not reached the portal yet and would be lost for good",
            "connect the kiosk to the network and wait until 'waiting to send' shows 0; or, if "
            "those records must be given up, run 'kiosk-provision reset --force'",
        )
    result = ResetResult(waiting_lost=waiting)
    if layout.keys.is_dir():
        for path in sorted(layout.keys.rglob("*")):
            if path.is_file() and shred(path):
                result.shredded.append(path.name)
        remove_tree(layout.keys)
    db = layout.database
    targets: list[Path] = [
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        layout.config,
        layout.prov,
        layout.models_new,
        layout.models_old,
        ctx.nm_dir / f"{WIFI_CONNECTION_ID}.nmconnection",
    ]
    if not keep_models:
        targets.append(layout.models)
    # everything else the kiosk keeps there (caches, demo data, reference sets) goes too
    keep = {layout.models} if keep_models else set()
    targets += [p for p in sorted(ctx.data_dir.iterdir()) if p not in keep and p not in targets]
    for target in targets:
        if target.exists():
            remove_tree(target)
            result.removed.append(str(target))
    return result
