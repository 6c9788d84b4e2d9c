"""The composition root: the only place that builds adapters and wires them together.

``build_kiosk(cfg)`` turns a validated configuration into a running appliance: store, keys,
camera, face pipeline, references, uplink, agents, GPIO device and the Flask UI. ``serve(cfg)``
runs it under waitress on the loopback interface until it is stopped. Nothing else in the
project constructs an adapter; tests build the same graph through :func:`build_kiosk`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.config import KioskConfig
from kiosk.core.clock import Clock, SystemClock
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Timeouts
from kiosk.core.throttle import ThrottlePolicy
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.crypto.trust import DEMO_PORTAL_DIR
from kiosk.errors import ModelError
from kiosk.services.registration import DeviceInfo, FormInfo, RegistrationService
from kiosk.store.db import DB_NAME, connect, ensure_free_space
from kiosk.uplink.topics import Name

log = logging.getLogger("kiosk.app")

TICK_S = 1.0
"""Main-loop period: session time-outs, LEDs, watchdog heartbeats, housekeeping (seconds)."""


@dataclass
class Kiosk:
    """Everything one running kiosk is made of; :meth:`start` / :meth:`stop` its threads."""

    cfg: KioskConfig
    clock: Clock
    wsgi_app: Any
    registration: RegistrationService
    status: Any
    camera: Any
    pipeline: Any
    verifier: Any
    references: Any
    uplink: Any
    agents: Any
    device: Any
    demo: Any
    watchdog: Any = None
    out_of_service: str | None = None
    _stoppers: list[Callable[[], None]] = field(default_factory=list)
    _tickers: list[Callable[[], None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the camera, the uplink, the device and the main loop."""
        self.camera.start()
        self._stoppers.append(self.camera.stop)
        if self.uplink is not None:
            self.uplink.start()
            self._stoppers.append(self.uplink.stop)
        self._thread = threading.Thread(target=self._loop, name="kiosk-main", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every thread and close the hardware, newest first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception:  # keep stopping the rest
                log.exception("error while stopping")
        self._stoppers.clear()

    def tick(self) -> None:
        """One pass of the main loop (also called directly by tests)."""
        for tick in self._tickers:
            try:
                tick()
            except Exception:  # one failing chore must not stop the others
                log.exception("main-loop chore failed")

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            self.tick()


def prepare_data_dir(cfg: KioskConfig) -> Path:
    """Create the data directory (0700); refuse one that is not writable, or volatile storage
    when configured to."""
    data_dir = cfg.paths.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    from firmware.storage import ensure_data_dir

    ensure_data_dir(data_dir, require_persistent=cfg.paths.require_persistent)
    return data_dir


def demo_portal_key(cfg: KioskConfig) -> KioskConfig:
    """With no portal key configured, make (once) a demo portal key pair and use its public key.

    This is for the demo and development only: the private halves sit beside the data so the
    reference portal receiver (``portal/``) can open the records and sign its replies (the
    kiosk trusts the demo signing key only while it seals to the demo portal). Provisioning
    installs the real portal's public keys.
    """
    if cfg.uplink.portal_public_key is not None:
        return cfg
    from kiosk.crypto.keys import generate_portal_key, public_pem, write_private_key

    folder = cfg.paths.data_dir / DEMO_PORTAL_DIR
    private, public = folder / "portal_x25519.pem", folder / "portal_x25519.pub.pem"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not public.is_file():
        key = generate_portal_key()
        write_private_key(private, key)
        tmp = public.with_suffix(".tmp")
        tmp.write_bytes(public_pem(key))
        tmp.replace(public)
        log.warning("DEMO: no portal key configured; records are sealed to a demo portal key")
    signing_public = folder / "portal_ed25519.pub.pem"
    if not signing_public.is_file():  # the demo portal's reply-signing key
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signing = Ed25519PrivateKey.generate()
        write_private_key(folder / "portal_ed25519.pem", signing)
        tmp = signing_public.with_suffix(".tmp")
        tmp.write_bytes(public_pem(signing))
        tmp.replace(signing_public)
    uplink = cfg.uplink.model_copy(update={"portal_public_key": public})
    return cfg.model_copy(update={"uplink": uplink})


def build_kiosk(
    cfg: KioskConfig,
    *,
    clock: Clock | None = None,
    camera: Any = None,
    pin_factory: Any = None,
    with_uplink: bool | None = None,
    with_device: bool = True,
    secret_key: bytes | None = None,
) -> Kiosk:
    """Build the whole kiosk from ``cfg``; raises a :class:`KioskError` naming what is wrong."""
    from kiosk.agents import AgentTimeouts, build_agent_service
    from kiosk.core.forms import load_consent, load_form
    from kiosk.core.regions import load_table
    from kiosk.crypto.envelope import sealer_from_config
    from kiosk.references.demo import ensure_demo_references
    from kiosk.references.idcard import CardReferences, IdCardMatcher
    from kiosk.references.inbox import ReferenceInbox
    from kiosk.references.message import load_trusted_keys
    from kiosk.references.online import OnlineVerifier
    from kiosk.references.store import ReferenceStore
    from kiosk.references.wiring import attach_to_uplink
    from kiosk.services.agent_face import CameraAgentMatcher
    from kiosk.services.face import CameraFaceVerifier
    from kiosk.services.status import StatusService
    from kiosk.store.outbox import OutboxRepository
    from kiosk.store.registrations import RegistrationRepository
    from kiosk.uplink.heartbeat import boot_id, clock_synchronised
    from kiosk.vision.camera import open_camera
    from kiosk.vision.pipeline import FacePipeline

    clock = clock or SystemClock()
    data_dir = prepare_data_dir(cfg)
    cfg = demo_portal_key(cfg)
    db_path = data_dir / DB_NAME
    conn = connect(db_path)
    keys = data_dir / "keys"
    data_key = load_or_create_key(keys / "data.key")
    cipher = AtRestCipher(data_key)
    lookup_key = load_or_create_key(keys / "lookup.key")
    sealer = sealer_from_config(cfg)
    device_info = DeviceInfo(cfg.device.id, cfg.device.village_code, __version__, boot_id())

    try:
        pipeline = FacePipeline.from_config(cfg)
    except ModelError as err:
        raise ModelError(f"the model pack cannot be used: {err}") from err
    camera = camera if camera is not None else open_camera(cfg.camera, clock)

    # Written from the uplink's relay thread too: its own connection (WAL allows both).
    references = ReferenceStore(connect(db_path), cipher, clock)
    demo = None
    if not load_trusted_keys(data_dir):
        demo = ensure_demo_references(cfg, references, pipeline)

    def trusted() -> list[Any]:
        return load_trusted_keys(data_dir)

    kiosk_ref: list[Kiosk] = []  # filled below; probes read the built kiosk lazily
    uplink = None
    if cfg.uplink.enabled if with_uplink is None else with_uplink:
        from kiosk.uplink.heartbeat import Probes
        from kiosk.uplink.service import build_uplink

        probes = Probes(
            data_dir=data_dir,
            camera_state=lambda: _camera_state(camera, kiosk_ref),
            model_versions=lambda: _model_versions(cfg.paths.resolved_models_dir()),
        )
        uplink = build_uplink(cfg, clock, probes=probes)
    online = None
    if uplink is not None:
        online = OnlineVerifier(
            uplink,
            sealer,
            trusted=trusted,
            device_id=cfg.device.id,
            village_code=cfg.device.village_code,
            clock=clock,
        )
        inbox = ReferenceInbox(
            references, trusted=trusted, village_code=cfg.device.village_code, clock=clock
        )
        attach_to_uplink(uplink, inbox, online)

    # The one way into the outbox: every record committed through it wakes the relay at once.
    outbox = OutboxRepository(conn, on_commit=uplink.notify if uplink is not None else _nothing)
    late: dict[str, Any] = {}  # the device and the audit log are built after the verifier
    face_timeouts = _face_timeouts(cfg, demo is not None)
    # A NIK without a village reference: the e-KTP's photo is its reference (memory only).
    cards = CardReferences(references, cfg.device.village_code) if cfg.biometrics.id_card else None
    verifier = CameraFaceVerifier(
        camera,
        pipeline,
        cards or references,
        _policy(cfg),
        online,
        clock=clock,
        timeouts=face_timeouts,
        on_claim=demo.on_claim_for(camera) if demo is not None else None,
        id_card=IdCardMatcher(pipeline) if cards is not None else None,
        cards=cards,
        light=lambda on: _face_light(late, on),
        on_spoof=lambda kind: _spoof_suspected(late, kind),
    )
    timeouts = Timeouts(cfg.ui.inactivity_warning_s, cfg.ui.inactivity_grace_s)
    form, consent = load_form(), load_consent()
    load_table()  # the region table (~0.1 s): load now, not for the first villager
    registration = RegistrationService(
        clock=clock,
        timeouts=timeouts,
        retry_budget=cfg.biometrics.retry_budget,
        verifier=verifier,
        sealer=sealer,
        repo=RegistrationRepository(conn, outbox),
        cipher=cipher,
        lookup_key=lookup_key,
        device=device_info,
        form=FormInfo(form.form_id, str(form.version), consent.version, form),
        clock_synced=clock_synchronised,
        ensure_space=lambda: ensure_free_space(data_dir, cfg.paths.min_free_mib * 2**20),
        id_cards=verifier if cards is not None else None,
    )
    status = StatusService(
        clock=clock,
        timeouts=timeouts,
        verifier=verifier,
        repo=RegistrationRepository(conn, outbox),
        lookup_key=lookup_key,
        audit=lambda kind, actor, subject: agents.audit.record(kind, actor, subject),
    )
    agent_matcher: Any = CameraAgentMatcher(
        camera, pipeline, clock, passive_only=face_timeouts.capture.passive_only
    )
    if demo is not None:  # the demo's agents: the replay camera shows their own photos
        from kiosk.agents.demo import DemoAgentMatcher

        agent_matcher = DemoAgentMatcher(agent_matcher, camera)
    agents = build_agent_service(
        conn=conn,
        cipher=cipher,
        lookup_key=lookup_key,
        sealer=sealer,
        clock=clock,
        device_id=cfg.device.id,
        matcher=agent_matcher,
        registration=registration,
        timeouts=AgentTimeouts.from_config(cfg.agents),
        policy=ThrottlePolicy(
            cfg.agents.pin_free_failures, cfg.agents.pin_base_delay_s, cfg.agents.pin_max_delay_s
        ),
        photo=verifier.preview_jpeg,
        outbox=outbox,
    )
    if demo is not None:
        from kiosk.agents.demo import ensure_demo_agents

        ensure_demo_agents(agents, pipeline, agent_matcher)

    if uplink is not None:
        from kiosk.agents.downlink import HouseholdUpdateHandler

        uplink.on_roster(
            lambda update: _ignore(agents.apply_agent_roster(update.version, list(update.agents)))
        )
        uplink.on_signed(Name.HOUSEHOLD_UPDATE, HouseholdUpdateHandler(agents, trusted))

    device = None
    if with_device:
        from firmware.device import build_device

        device = build_device(
            cfg.gpio,
            on_help=lambda: _ignore(agents.request_help("button")),
            on_presence=lambda present: None if present else _walked_away(registration, agents),
            on_help_cancel=lambda: _ignore(agents.cancel_help("button")),
            clock=clock,
            pin_factory=pin_factory,
        )
        if device.can_alert:  # a help request from the screen is heard in the office too
            agents.set_help_alert(lambda _request: device.alert())

    late["device"], late["audit"] = device, agents.audit
    from kiosk.crypto.keys import load_or_create_device_key
    from kiosk.crypto.trust import TrustedKeys
    from kiosk.uplink.service import portal_key_folders
    from kiosk.usb.service import UsbService

    usb = UsbService(
        cfg=cfg.usb,
        device_id=cfg.device.id,
        device_key=load_or_create_device_key(data_dir),
        # exactly the keys the uplink checks MQTT acks with: one ack rule, one trust
        trusted=TrustedKeys(portal_key_folders(cfg)),
        conn_factory=lambda: connect(db_path),
        clock=clock,
    )
    wsgi = _build_ui(
        cfg,
        usb=usb,
        registration=registration,
        status=status,
        verifier=verifier,
        camera=camera,
        agents=agents,
        pending=(uplink.pending_count if uplink is not None else None),
        presence=(_PresenceView(device.presence) if device and device.presence else None),
        form=form,
        consent=consent,
        secret_key=secret_key,
    )
    kiosk = Kiosk(
        cfg=cfg,
        clock=clock,
        wsgi_app=wsgi,
        registration=registration,
        status=status,
        camera=camera,
        pipeline=pipeline,
        verifier=verifier,
        references=references,
        uplink=uplink,
        agents=agents,
        device=device,
        demo=demo,
    )
    kiosk_ref.append(kiosk)
    kiosk.watchdog = _camera_watchdog(kiosk, clock)
    kiosk._tickers += [
        agents.housekeeping,
        registration.tick,
        status.tick,
        lambda: _ignore(references.purge_expired()),
    ]
    if device is not None:
        kiosk._tickers.append(lambda: device.set_status(_device_status(kiosk)))
        kiosk._stoppers.append(device.close)
    kiosk._stoppers.append(pipeline.close)
    kiosk._stoppers.append(conn.close)
    return kiosk


def _camera_watchdog(kiosk: Kiosk, clock: Clock) -> Any:
    """Restart a stuck camera (5 times in 60 s at most), then declare the kiosk out of service."""
    from firmware.supervisor import WorkerWatchdog

    def give_up(worker: str, reason: str) -> None:
        kiosk.out_of_service = f"{worker}: {reason}"
        log.error("OUT OF SERVICE: %s", kiosk.out_of_service)

    def restart_camera() -> None:
        kiosk.camera.stop()
        kiosk.camera.start()

    watchdog = WorkerWatchdog(clock, budget=5, window_s=60.0, on_give_up=give_up)
    watchdog.register("camera", restart_camera, timeout_s=3 * kiosk.cfg.camera.stall_timeout_s)

    def beat_if_fresh() -> None:
        frame = kiosk.camera.latest()
        fresh = frame is not None and clock.monotonic() - frame.timestamp < (
            kiosk.cfg.camera.stall_timeout_s
        )
        if fresh:
            watchdog.beat("camera")

    kiosk._tickers += [beat_if_fresh, lambda: _ignore(watchdog.check())]
    return watchdog


def _camera_state(camera: Any, kiosk_ref: list[Kiosk]) -> str:
    if kiosk_ref and kiosk_ref[0].out_of_service:
        return "out_of_service"
    return str(getattr(camera, "state", "unknown"))


def _model_versions(models_dir: Path) -> dict[str, str]:
    """Model file -> first 12 hex digits of its SHA-256 (from the verified SHA256SUMS)."""
    versions = {}
    try:
        for line in (models_dir / "SHA256SUMS").read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                versions[parts[1].lstrip("*")] = parts[0][:12]
    except OSError:
        pass
    return versions


class _PresenceView:
    """The UI's ``Presence`` port over the firmware's PIR sensor."""

    def __init__(self, sensor: Any) -> None:
        self._sensor = sensor

    def present(self) -> bool:
        """True while someone is believed to stand in front of the kiosk."""
        return bool(self._sensor.present)


def _face_timeouts(cfg: KioskConfig, demo: bool) -> Any:
    """The face attempt's budgets; the demo's replayed photos cannot blink or turn their head."""
    import dataclasses

    from kiosk.services.face import FaceTimeouts

    timeouts = FaceTimeouts.from_config(cfg.biometrics)
    if not demo:
        return timeouts
    log.info("demo faces: active challenge only below liveness_live (photos cannot blink)")
    capture = dataclasses.replace(timeouts.capture, passive_only=cfg.biometrics.liveness_live)
    return dataclasses.replace(timeouts, capture=capture)


def _face_light(late: dict[str, Any], on: bool) -> None:
    """Switch the face-light relay, once the device exists (no-op without one)."""
    device = late.get("device")
    if device is not None:
        device.set_face_light(on)


def _spoof_suspected(late: dict[str, Any], kind: str) -> None:
    """Record a spoof suspicion in the audit log the portal receives (a kind, no person)."""
    audit = late.get("audit")
    if audit is not None:
        audit.record("spoof_suspected", None, kind)


def _walked_away(registration: RegistrationService, agents: Any) -> None:
    """The presence sensor saw nobody for its timeout: end sessions and wipe their data."""
    registration.end_all("walked_away")
    agents.presence_lost()


def _nothing() -> None:
    """No uplink to wake: records wait in the outbox."""


def _ignore(_value: object) -> None:
    """Adapt a function with a result to a callback that returns nothing."""


def _policy(cfg: KioskConfig) -> DecisionPolicy:
    rows = getattr(cfg.biometrics, "policy", None)
    return DecisionPolicy.from_rows(rows) if rows else DecisionPolicy()


def _device_status(kiosk: Kiosk) -> Any:
    """The status LED pattern the kiosk should show now."""
    from firmware.indicators import Status

    if kiosk.out_of_service:
        return Status.OUT_OF_SERVICE
    camera_state = str(getattr(kiosk.camera, "state", "ok"))
    if camera_state not in ("ok", "starting"):
        return Status.FAULT
    if kiosk.registration.active:
        return Status.BUSY
    if kiosk.uplink is not None and kiosk.uplink.pending_count() > 0 and not kiosk.uplink.online:
        return Status.OFFLINE
    return Status.READY


def _build_ui(cfg: KioskConfig, **parts: Any) -> Any:
    from ui import create_app
    from ui.speech import Speech

    verifier = parts.pop("verifier")
    camera = parts.pop("camera")
    speech = Speech(cfg.paths.data_dir / "speech-cache", enabled=cfg.ui.speech)
    from ui.printer import open_printer

    printer = open_printer(cfg.ui.printer_backend, cfg.ui.printer)
    from ui.qrscan import CameraQrReader

    return create_app(
        cfg=cfg,
        speech=speech,
        printer=printer,
        live=verifier,
        qr=CameraQrReader(lambda: _latest_image(camera)),
        presence=parts.pop("presence", None),
        **parts,
    )


def _latest_image(camera: Any) -> Any:
    frame = camera.latest()
    return None if frame is None else frame.image


def serve(cfg: KioskConfig) -> int:
    """Run the kiosk on ``cfg.ui.host:port`` under waitress until interrupted; exit code."""
    import waitress

    kiosk = build_kiosk(cfg)  # a KioskError here names what is wrong; kiosk.cli prints it

    def _terminate(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # systemd's SIGTERM: stop as cleanly as on Ctrl-C

    signal.signal(signal.SIGTERM, _terminate)
    kiosk.start()
    from firmware.heartbeat import MainLoopHeartbeat
    from firmware.sdnotify import Notifier

    notifier = Notifier()  # does nothing outside systemd (no NOTIFY_SOCKET)
    heartbeat = MainLoopHeartbeat(notifier, kiosk.clock)  # the worker check is a ticker already
    kiosk._tickers.append(lambda: _ignore(heartbeat.tick()))
    notifier.ready(f"serving on {cfg.ui.host}:{cfg.ui.port}")
    log.info("kiosk %s serving on http://%s:%d", cfg.device.id, cfg.ui.host, cfg.ui.port)
    try:
        waitress.serve(kiosk.wsgi_app, host=cfg.ui.host, port=cfg.ui.port, threads=6, ident="")
    finally:
        notifier.stopping()
        kiosk.stop()
    return 0
