"""The ``Uplink`` the composition root starts and stops: relay thread + MQTT link + heartbeat."""

from __future__ import annotations

import logging
import queue
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kiosk.config import KioskConfig, UplinkConfig
from kiosk.core.clock import Clock
from kiosk.core.outbox import Backoff
from kiosk.crypto.frame import FrameSigner
from kiosk.crypto.keys import load_or_create_device_key
from kiosk.crypto.trust import DEMO_PORTAL_DIR, TrustedKeys
from kiosk.errors import StoreError
from kiosk.store.outbox import OutboxCounts, OutboxRepository
from kiosk.store.registrations import RegistrationRepository
from kiosk.uplink import heartbeat, messages
from kiosk.uplink.client import Event, Inbound, MqttLink
from kiosk.uplink.inbound import (
    DECODERS,
    SIGNED_TOPICS,
    ConfigUpdate,
    PortalMessage,
    Reply,
    RosterUpdate,
    SignedMessage,
    StatusUpdate,
    VersionGate,
    decode,
)
from kiosk.uplink.relay import Relay
from kiosk.uplink.replies import Trusted
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)

FALLBACK_POLL_S = 5.0
"""With nothing to do, look for rows committed without a wake-up this often, seconds.

Every record committed through the kiosk's outbox wakes the relay (:meth:`Uplink.notify`);
only rows written by another process (``kiosk outbox retry-dead``, a tool) wait for this poll.
"""


class Link(Protocol):
    """What the service needs from an MQTT link (``MqttLink`` or a test double)."""

    last_error: str | None

    def start(self) -> None:
        """Connect in the background."""
        ...

    def stop(self) -> None:
        """Disconnect."""
        ...

    @property
    def connected(self) -> bool:
        """Connection is up."""
        ...

    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        """Publish a signed frame of sealed records."""
        ...

    def publish_json(self, name: str, payload: bytes) -> int | None:
        """Publish a JSON message."""
        ...


LinkFactory = Callable[[UplinkConfig, str, Callable[[Event], None]], Link]


class _Wake:
    """Internal event: look at the outbox now."""


class Uplink:
    """Carries the outbox to the portal and brings acks, statuses, config and roster back."""

    def __init__(
        self,
        cfg: KioskConfig,
        conn_factory: Callable[[], sqlite3.Connection],
        clock: Clock,
        *,
        rng: random.Random | None = None,
        probes: heartbeat.Probes | None = None,
        link_factory: LinkFactory = MqttLink,
        trusted: Trusted | None = None,
        poll_s: float = FALLBACK_POLL_S,
    ) -> None:
        self._cfg = cfg
        self._poll_s = poll_s
        self._conn_factory = conn_factory
        self._clock = clock
        self._rng = rng or random.Random()
        self._probes = probes or heartbeat.Probes(data_dir=cfg.paths.data_dir)
        self._events: queue.Queue[Event | _Wake] = queue.Queue()
        self._wake_queued = threading.Event()  # one wake-up waiting is enough, however many commits
        self._link = link_factory(cfg.uplink, cfg.device.id, self._events.put)
        self._trusted = trusted or TrustedKeys(portal_key_folders(cfg))
        if not self._trusted():
            log.error(
                "no portal signing key is installed (%s): every portal reply will be refused; "
                "run the provisioning identity step with --portal-signing-key",
                cfg.paths.data_dir / "keys" / "portal_ed25519.pub.pem",
            )
        self._signer: FrameSigner | None = None
        self._local = threading.local()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._status_cbs: list[Callable[[StatusUpdate], None]] = []
        self._config_cbs: list[Callable[[ConfigUpdate], None]] = []
        self._roster_cbs: list[Callable[[RosterUpdate], None]] = []
        self._alert_cbs: list[Callable[[str, str], None]] = []
        self._acked_cbs: list[Callable[[list[str]], None]] = []
        self._signed_cbs: dict[str, list[Callable[[bytes, bytes | None], object]]] = {}
        self._reply_cbs: dict[str, list[Callable[[Reply], object]]] = {}
        self._gate = VersionGate()
        self._relay: Relay | None = None
        self._heartbeat_s = cfg.uplink.heartbeat_s
        self.store_error: str | None = None
        self.loop_errors = 0
        self.handler_errors: Counter[str] = Counter()

    # --- hooks ------------------------------------------------------------------------
    def on_status(self, callback: Callable[[StatusUpdate], None]) -> None:
        """Also call ``callback`` (relay thread) for each status update, after it is stored."""
        self._status_cbs.append(callback)

    def on_config(self, callback: Callable[[ConfigUpdate], None]) -> None:
        """Call ``callback`` with each validated, newer config message."""
        self._config_cbs.append(callback)

    def on_roster(self, callback: Callable[[RosterUpdate], None]) -> None:
        """Call ``callback`` with each validated, newer roster message."""
        self._roster_cbs.append(callback)

    def on_reply(self, name: str, callback: Callable[[Reply], object]) -> None:
        """Call ``callback`` (relay thread) with each verified answer on the reply topic
        ``name`` (``status_reply``, ``kk_reply``)."""
        if DECODERS.get(name) is not Reply:
            raise ValueError(f"{name!r} is not a reply topic")
        self._reply_cbs.setdefault(name, []).append(callback)

    def on_signed(self, name: str, callback: Callable[[bytes, bytes | None], object]) -> None:
        """Call ``callback(payload, correlation)`` (relay thread) for each message on the
        portal-signed topic ``name`` (references, references_revoke, verify_reply)."""
        if name not in SIGNED_TOPICS:
            raise ValueError(f"{name!r} is not a portal-signed topic")
        self._signed_cbs.setdefault(name, []).append(callback)

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> bool:
        """Publish a sealed request now (not via the outbox); False when not connected."""
        publish = getattr(self._link, "publish_request", None)
        return (
            publish is not None
            and publish(kind, request_id, self._framer()(kind, [payload])) is not None
        )

    def _framer(self) -> FrameSigner:
        """This device's frame signer (its Ed25519 key, loaded once)."""
        if self._signer is None:
            self._signer = FrameSigner(
                device_id=self._cfg.device.id,
                key=load_or_create_device_key(self._cfg.paths.data_dir),
            )
        return self._signer

    def on_acked(self, callback: Callable[[list[str]], None]) -> None:
        """Call ``callback(record_ids)`` after records were newly acknowledged by the portal."""
        self._acked_cbs.append(callback)

    def on_alert(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(record_id, reason)`` when a record is marked dead."""
        self._alert_cbs.append(callback)

    # --- state for the UI -------------------------------------------------------------
    def _repo(self) -> OutboxRepository:
        repo = getattr(self._local, "repo", None)
        if repo is None:
            repo = OutboxRepository(self._conn_factory())
            self._local.repo = repo
        return repo

    def counts(self) -> OutboxCounts:
        """Outbox rows per state (own connection per calling thread)."""
        return self._repo().counts()

    def pending_count(self) -> int:
        """Records not yet held by the portal: the UI's "N waiting to send"."""
        return self.counts().waiting

    @property
    def online(self) -> bool:
        """True while connected to the broker."""
        return bool(self._link.connected)

    @property
    def last_error(self) -> str | None:
        """Why the link is down, in words, or None."""
        return self._link.last_error

    def notify(self) -> None:
        """Wake the relay now: the outbox's ``on_commit``, called after each new row commits."""
        if not self._wake_queued.is_set():  # the relay pumps after it takes the queued one
            self._wake_queued.set()
            self._events.put(_Wake())

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the relay thread and the MQTT link (no-op when uplink.enabled is false)."""
        if not self._cfg.uplink.enabled:
            log.info("uplink disabled: registrations wait in the outbox")
            return
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="uplink-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the relay and disconnect (announcing 'offline')."""
        if self._thread is None:
            return
        self._stopping.set()
        self._events.put(_Wake())
        self._thread.join(timeout_s)
        self._thread = None

    # --- relay thread -----------------------------------------------------------------
    def _run(self) -> None:
        conn = self._conn_factory()
        # The relay's own writes (sent/acked/dead bookkeeping) need no fsync each: in WAL mode
        # NORMAL stays consistent, and losing the last few of them in a power cut only causes
        # a resend that the portal acknowledges as a duplicate. Registrations are committed on
        # the UI's connection with synchronous=FULL (per connection), which this does not touch.
        conn.execute("PRAGMA synchronous=NORMAL")
        repo = OutboxRepository(conn)
        regs = RegistrationRepository(conn)
        up = self._cfg.uplink
        relay = Relay(
            repo=repo,
            link=self._link,
            clock=self._clock,
            rng=self._rng,
            backoff=Backoff(up.backoff_initial_s, up.backoff_max_s),
            window=up.inflight_window,
            ack_timeout_s=up.ack_timeout_s,
            retention_s=up.retention_days * 86400.0,
            decode=self._decode,
            frame=self._framer(),
            on_acked=self._acked,
            on_message=lambda msg: self._dispatch(regs, msg),
            on_alert=self._alert,
        )
        self._relay = relay
        relay.start()
        self._link.start()
        next_beat = self._clock.monotonic()
        store_failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    published = relay.pump()
                    if relay.connected and self._clock.monotonic() >= next_beat:
                        self._beat(repo)
                        next_beat = self._clock.monotonic() + self._heartbeat_s
                    batch = self._drain(0.0 if published else self._idle_s(relay, next_beat))
                    relay.handle(e for e in batch if not isinstance(e, _Wake))
                    store_failures = 0
                except (StoreError, sqlite3.Error) as err:
                    # e.g. disk full: nothing is lost (unrecorded acks only cause a resend
                    # that the portal acknowledges as a duplicate); wait and try again
                    store_failures += 1
                    self.store_error = str(err)
                    log.warning("uplink cannot update the outbox: %s", err)
                    self._stopping.wait(min(5.0, 0.1 * 2**store_failures))
                except Exception:  # a bug must cost one round, never the relay thread
                    self.loop_errors += 1
                    log.exception("uplink relay round failed (loop_error); continuing")
                    self._stopping.wait(min(5.0, 0.1 * 2 ** min(self.loop_errors, 6)))
        finally:
            self._link.stop()
            conn.close()

    def _idle_s(self, relay: Relay, next_beat: float) -> float:
        """How long to wait for an event: the relay's timers, the heartbeat, the slow poll."""
        wait = relay.idle_s(self._poll_s)
        if relay.connected:
            wait = min(wait, max(0.0, next_beat - self._clock.monotonic()))
        return wait

    def _drain(self, wait_s: float) -> list[Event | _Wake]:
        try:
            first = self._events.get(timeout=wait_s) if wait_s > 0 else self._events.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < 1000:
            try:
                batch.append(self._events.get_nowait())
            except queue.Empty:
                break
        if any(isinstance(e, _Wake) for e in batch):
            self._wake_queued.clear()  # before the pump that follows reads the outbox
        return batch

    def _decode(self, msg: Inbound) -> PortalMessage:
        return decode(self._cfg.uplink.topic_prefix, self._cfg.device.id, msg, self._trusted)

    def _beat(self, repo: OutboxRepository) -> None:
        try:
            beat = heartbeat.build(
                self._cfg.device.id, self._clock, repo, self._probes, inbound=self.inbound_report()
            )
            self._link.publish_json(Name.HEARTBEAT, messages.dumps(Name.HEARTBEAT, beat))
        except Exception:
            log.exception("heartbeat failed")

    def _acked(self, record_ids: list[str]) -> None:
        # templates were purged and statuses set to 'received' in the ack transaction
        for cb in self._acked_cbs:
            cb(record_ids)

    def _dispatch(self, regs: RegistrationRepository, msg: PortalMessage) -> None:
        if isinstance(msg, StatusUpdate):
            if not regs.set_status(msg.record_id, msg.status, msg.reason, msg.at):
                log.warning("status for unknown record %s ignored", msg.record_id)
            for cb in self._status_cbs:
                self._isolated(Name.STATUS, cb, msg)
        elif isinstance(msg, ConfigUpdate) and self._gate.admit(msg):
            if "heartbeat_s" in msg.settings:
                self._heartbeat_s = float(msg.settings["heartbeat_s"])
            for cfg_cb in self._config_cbs:
                self._isolated(Name.CONFIG, cfg_cb, msg)
        elif isinstance(msg, RosterUpdate) and self._gate.admit(msg):
            for r_cb in self._roster_cbs:
                self._isolated(Name.ROSTER, r_cb, msg)
        elif isinstance(msg, Reply):
            name = msg.body["kind"]
            for q_cb in self._reply_cbs.get(name, []):
                self._isolated(name, q_cb, msg)
        elif isinstance(msg, SignedMessage):
            for s_cb in self._signed_cbs.get(msg.name, []):
                self._isolated(msg.name, s_cb, msg.payload, msg.correlation)

    def _isolated(self, name: str, callback: Callable[..., object], *args: object) -> None:
        """Run one handler; whatever it raises is logged with a reason code and counted."""
        try:
            callback(*args)
        except (StoreError, sqlite3.Error):
            raise  # the outbox's own database: handled (and retried) by the relay loop
        except Exception as err:
            self.handler_errors[name] += 1
            log.error("handler for %s failed (handler_error): %s", name, type(err).__name__)

    def _alert(self, record_id: str, reason: str) -> None:
        for cb in self._alert_cbs:
            cb(record_id, reason)

    @property
    def rejected_inbound(self) -> int:
        """Inbound messages refused since start (malformed, unsigned, forged, not ours)."""
        return self._relay.rejected_inbound if self._relay is not None else 0

    def inbound_report(self) -> dict[str, int]:
        """Refused inbound messages by reason, plus handler and loop errors (for the heartbeat)."""
        out: dict[str, int] = {}
        if self._relay is not None:
            out.update(self._relay.refused)
            errors = sum(self._relay.handler_errors.values())
            if errors:
                out["handler_error"] = errors
        if self.handler_errors:
            out["handler_error"] = out.get("handler_error", 0) + sum(self.handler_errors.values())
        if self.loop_errors:
            out["loop_error"] = self.loop_errors
        return out


def portal_key_folders(cfg: KioskConfig) -> list[Path]:
    """Where trusted portal signing keys live: ``<data_dir>/keys``; in the demo (records sealed
    to the demo portal's key) also the demo portal's folder beside it."""
    folders = [cfg.paths.data_dir / "keys"]
    sealed_to = cfg.uplink.portal_public_key
    if sealed_to is not None and sealed_to.parent.name == DEMO_PORTAL_DIR:
        folders.append(sealed_to.parent)
    return folders


def build_uplink(
    cfg: KioskConfig,
    clock: Clock,
    *,
    conn_factory: Callable[[], sqlite3.Connection] | None = None,
    probes: heartbeat.Probes | None = None,
) -> Uplink:
    """The production uplink for ``cfg``: its own connections to ``<data_dir>/kiosk.sqlite3``."""
    from kiosk.store.db import DB_NAME, connect

    path = cfg.paths.data_dir / DB_NAME
    return Uplink(cfg, conn_factory or (lambda: connect(path)), clock, probes=probes)
