"""What the USB screen calls: the stick's state, and one export or ack import at a time.

A job runs on its own thread with its own SQLite connection, so the screen can show progress
while thousands of records are copied; errors become a :class:`StickError` code the screen
turns into spoken Indonesian.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.config import UsbConfig
from kiosk.core.clock import Clock
from kiosk.errors import KioskError, StickError
from kiosk.store.outbox import OutboxRepository
from kiosk.usb.ackfile import AckImportResult, import_acks
from kiosk.usb.export import ExportResult, check_stick, export_backlog
from kiosk.usb.layout import ACK_FILE, export_dirs

log = logging.getLogger(__name__)

JobKind = Literal["export", "acks"]


@dataclass(frozen=True)
class UsbOverview:
    """The screen's header: records waiting, whether a stick is usable, ack files on it."""

    waiting: int
    stick: str | None
    """None when a writable stick is mounted, else a :class:`StickError` code."""
    ack_files: int


@dataclass
class UsbJob:
    """One export or ack import, as the progress screen sees it."""

    kind: JobKind
    state: Literal["running", "done", "failed"] = "running"
    done: int = 0
    total: int = 0
    error: str | None = None
    """A :class:`StickError` code (``missing``, ``read_only``, ``full``, ``io``) when failed."""
    exported: ExportResult | None = None
    imported: AckImportResult | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class UsbService:
    """Export the backlog to the stick and bring the portal's ack files back."""

    def __init__(
        self,
        *,
        cfg: UsbConfig,
        device_id: str,
        device_key: Ed25519PrivateKey,
        trusted: Callable[[], Sequence[Ed25519PublicKey]],
        conn_factory: Callable[[], sqlite3.Connection],
        clock: Clock,
    ) -> None:
        self._cfg = cfg
        self._device_id = device_id
        self._device_key = device_key
        self._trusted = trusted
        self._conn_factory = conn_factory
        self._clock = clock
        self._job: UsbJob | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def config(self) -> UsbConfig:
        """The stick's settings (mount point), for other files put on it (meeting report)."""
        return self._cfg

    def _stick(self, writable: bool = True) -> None:
        check_stick(self._cfg.mount_point, require_mount=self._cfg.require_mount, writable=writable)

    def overview(self) -> UsbOverview:
        """Records waiting for the portal, the stick's state and the ack files waiting on it."""
        conn = self._conn_factory()
        try:
            counts = OutboxRepository(conn).counts()
        finally:
            conn.close()
        try:
            self._stick()
            state = None
        except StickError as err:
            state = err.code
        ack_files = 0
        if state in (None, "read_only"):
            dirs = export_dirs(self._cfg.mount_point, self._device_id)
            ack_files = sum((d / ACK_FILE).is_file() for d in dirs)
        return UsbOverview(counts.pending + counts.sent + counts.dead, state, ack_files)

    @property
    def job(self) -> UsbJob | None:
        """The running or last finished job."""
        return self._job

    def start(self, kind: JobKind) -> UsbJob:
        """Start an export or ack import in the background (the running one, if any)."""
        with self._guard:
            if self._job is not None and self._job.state == "running":
                return self._job
            job = UsbJob(kind)
            self._job = job
            self._thread = threading.Thread(
                target=self.run, args=(job,), name=f"usb-{kind}", daemon=True
            )
            self._thread.start()
            return job

    def wait(self, timeout_s: float = 60.0) -> UsbJob | None:
        """Wait for the background job to finish (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return self._job

    def run(self, job: UsbJob) -> UsbJob:
        """Do ``job`` on this thread with its own database connection."""
        conn = self._conn_factory()
        try:
            repo = OutboxRepository(conn)
            if job.kind == "export":
                self._stick()
                job.exported = export_backlog(
                    repo,
                    stick=self._cfg.mount_point,
                    device_id=self._device_id,
                    device_key=self._device_key,
                    now=self._clock.now(),
                    progress=lambda done, total: _progress(job, done, total),
                )
            else:
                self._stick(writable=False)  # a write-protected stick can still be read
                job.imported = import_acks(
                    self._cfg.mount_point,
                    repo,
                    device_id=self._device_id,
                    trusted=self._trusted(),
                    now=self._clock.now(),
                )
                _progress(job, len(job.imported.files), len(job.imported.files))
            job.state = "done"
        except StickError as err:
            log.warning("USB %s failed: %s", job.kind, err)
            job.error, job.state = err.code, "failed"
        except (KioskError, OSError, sqlite3.Error) as err:
            log.error("USB %s failed: %s", job.kind, err)
            job.error, job.state = "io", "failed"
        finally:
            conn.close()
        return job


def _progress(job: UsbJob, done: int, total: int) -> None:
    with job.lock:
        job.done, job.total = done, total
