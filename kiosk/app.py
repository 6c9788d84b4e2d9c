"""The composition root: the only place that builds adapters and wires them together.

``build_kiosk(cfg)`` turns a validated configuration into a :class:`~kiosk.runtime.Kiosk`:
store, keys, camera, face pipeline, references, uplink, agents, GPIO device and the Flask UI.
The services are built by :func:`build_services` over a :class:`ServiceParts` of adapters and
the UI by :func:`build_ui`; tests build through the same two functions with the fakes shipped
in the package (``kiosk.vision.fake``, ``kiosk.crypto.fake``), never by hand. Running the
built kiosk (main loop, waitress, systemd) is :mod:`kiosk.runtime`; ``serve(cfg)`` is both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import __version__
from kiosk.config import KioskConfig
from kiosk.core.clock import Clock, SystemClock
from kiosk.core.forms import ConsentText, FormDefinition, load_consent, load_form
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Timeouts
from kiosk.core.throttle import ThrottlePolicy
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.crypto.demo import demo_portal_key
from kiosk.errors import ModelError
from kiosk.runtime import Kiosk, serve_until_stopped, watch_camera
from kiosk.services.objection import AuditTx, ObjectionService, Photo
from kiosk.services.ports import (
    Audit,
    Cipher,
    FaceVerifier,
    FamilyQuery,
    IdCardReader,
    Microphone,
    RegistrationStore,
    Sealer,
    StatusQuery,
)
from kiosk.services.registration import DeviceInfo, FormInfo, RegistrationService
from kiosk.services.status import StatusService
from kiosk.services.voice import VoiceRecorder
from kiosk.store.db import DB_NAME, connect, ensure_free_space
from kiosk.store.objections import ObjectionRepository
from kiosk.uplink.topics import Name

if TYPE_CHECKING:
    import sqlite3

    from flask import Flask
    from gpiozero import Factory

    from kiosk.agents.auth import AgentFaceMatcher
    from kiosk.agents.service import AgentService
    from kiosk.store.outbox import OutboxRepository
    from kiosk.usb.service import UsbService
    from kiosk.vision.camera.base import Camera
    from kiosk.vision.verifier import FaceTimeouts

log = logging.getLogger("kiosk.app")

__all__ = [
    "Kiosk",
    "ServiceParts",
    "Services",
    "build_agents",
    "build_kiosk",
    "build_services",
    "build_ui",
]


@dataclass(frozen=True)
class ServiceParts:
    """The adapters the services are built over: the real ones, or the package's fakes."""

    clock: Clock
    verifier: FaceVerifier
    sealer: Sealer
    cipher: Cipher
    lookup_key: bytes
    repo: RegistrationStore
    device: DeviceInfo
    data_dir: Path
    audit: Audit | None = None  # the agents' audit log (assisted status and family card checks)
    clock_synced: Callable[[], bool] = field(default=lambda: False)
    id_cards: IdCardReader | None = None  # the e-KTP step (biometrics.id_card), or none
    objections: ObjectionRepository | None = None  # None: no objections (sanggah) here
    audit_tx: AuditTx | None = None  # the audit log inside an objection's own transaction
    photo: Photo | None = None  # the camera's newest frame as JPEG (evidence photos)
    portal_status: StatusQuery | None = None  # None: status from this kiosk's record only
    families: FamilyQuery | None = None  # None: a No. KK is looked up on this kiosk only
    microphone: Microphone | None = None  # spoken notes (kiosk.audio); None: typed notes only


@dataclass(frozen=True)
class Services:
    """The use-case services the screens call, with the questionnaire and consent they use."""

    registration: RegistrationService
    status: StatusService
    form: FormDefinition
    consent: ConsentText
    objections: ObjectionService | None = None
    voice: VoiceRecorder | None = None  # spoken notes (objections, reports, proposals)


def build_services(cfg: KioskConfig, parts: ServiceParts) -> Services:
    """The registration and status services over ``parts``, as every kiosk has them."""
    timeouts = Timeouts(cfg.ui.inactivity_warning_s, cfg.ui.inactivity_grace_s)
    form, consent = load_form(), load_consent()
    min_free = cfg.paths.min_free_mib * 2**20
    registration = RegistrationService(
        clock=parts.clock,
        timeouts=timeouts,
        retry_budget=cfg.biometrics.retry_budget,
        verifier=parts.verifier,
        sealer=parts.sealer,
        repo=parts.repo,
        cipher=parts.cipher,
        lookup_key=parts.lookup_key,
        device=parts.device,
        form=FormInfo(form.form_id, str(form.version), consent.version, form),
        clock_synced=parts.clock_synced,
        ensure_space=lambda: ensure_free_space(parts.data_dir, min_free),
        id_cards=parts.id_cards,
        families=parts.families,
        audit=parts.audit,
    )
    status = StatusService(
        clock=parts.clock,
        timeouts=timeouts,
        verifier=parts.verifier,
        repo=parts.repo,
        lookup_key=parts.lookup_key,
        audit=parts.audit,
        portal=parts.portal_status,
        objections=parts.objections,
    )
    voice = VoiceRecorder(
        parts.microphone, clock=parts.clock, max_seconds=cfg.microphone.max_seconds
    )
    status.on_end(voice.discard_session)  # a spoken note never outlives its status check
    objections = None
    if parts.objections is not None:
        objections = ObjectionService(
            clock=parts.clock,
            repo=parts.objections,
            sealer=parts.sealer,
            lookup_key=parts.lookup_key,
            device_id=parts.device.device_id,
            boot_id=parts.device.boot_id,
            clock_synced=parts.clock_synced,
            photo=parts.photo,
            audit=parts.audit_tx,
            ensure_space=lambda: ensure_free_space(parts.data_dir, min_free),
            voice=voice,
        )
        status.on_end(objections.discard)  # a draft never outlives its status check
    return Services(registration, status, form, consent, objections, voice)


def build_agents(
    cfg: KioskConfig,
    parts: ServiceParts,
    registration: RegistrationService,
    *,
    conn: sqlite3.Connection,
    cipher: AtRestCipher,
    outbox: OutboxRepository,
    matcher: AgentFaceMatcher,
) -> AgentService:
    """The agent service over the kiosk database ``conn``, beside ``registration``
    (``cipher``: the at-rest cipher of ``parts``, as the agents' stores type it)."""
    from kiosk.agents import AgentTimeouts, build_agent_service
    from kiosk.core.upkeep import RosterPolicy

    return build_agent_service(
        conn=conn,
        cipher=cipher,
        lookup_key=parts.lookup_key,
        sealer=parts.sealer,
        clock=parts.clock,
        device_id=parts.device.device_id,
        matcher=matcher,
        registration=registration,
        timeouts=AgentTimeouts.from_config(cfg.agents),
        policy=ThrottlePolicy(
            cfg.agents.pin_free_failures, cfg.agents.pin_base_delay_s, cfg.agents.pin_max_delay_s
        ),
        photo=parts.photo,
        outbox=outbox,
        roster_policy=RosterPolicy(cfg.agents.roster_cap, cfg.agents.upkeep_after_days),
    )


def build_ui(cfg: KioskConfig, services: Services, **extras: Any) -> Flask:
    """The Flask UI over ``services``; ``extras`` are :func:`ui.create_app`'s optional parts
    (speech, printer, live, qr, presence, agent, pending, agents, usb, secret_key)."""
    from ui import create_app

    return create_app(
        cfg=cfg,
        registration=services.registration,
        status=services.status,
        objections=services.objections,
        voice=services.voice,
        form=services.form,
        consent=services.consent,
        choices=village_lists(cfg, extras.get("community")),
        **extras,
    )


def village_lists(cfg: KioskConfig, community: Any) -> Callable[[], dict[str, tuple[str, ...]]]:
    """The village's lists the questionnaire offers (``choices_from``): its dusun from the
    portal's signed village list when the kiosk holds one, else as provisioned
    (``device.dusun``); none: the name is typed."""

    def lists() -> dict[str, tuple[str, ...]]:
        held = community.recipients() if community is not None else None
        names = tuple(held.dusun) if held is not None and held.dusun else ()
        return {"dusun": names or tuple(cfg.device.dusun)}

    return lists


def prepare_data_dir(cfg: KioskConfig) -> Path:
    """Create the data directory (0700); refuse one that is not writable, or volatile storage
    when configured to."""
    data_dir = cfg.paths.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    from firmware.storage import ensure_data_dir

    ensure_data_dir(data_dir, require_persistent=cfg.paths.require_persistent)
    return data_dir


def build_usb(
    cfg: KioskConfig,
    clock: Clock,
    db_path: Path,
    trusted: Callable[[], list[Any]] | None = None,
) -> UsbService:
    """The USB stick service of ``cfg``'s kiosk over the database at ``db_path``; it trusts
    ``trusted`` or else exactly the portal keys the uplink checks MQTT acks with (one ack rule,
    one trust)."""
    from kiosk.crypto.keys import load_or_create_device_key
    from kiosk.crypto.trust import TrustedKeys
    from kiosk.uplink.service import portal_key_folders
    from kiosk.usb.service import UsbService

    return UsbService(
        cfg=cfg.usb,
        device_id=cfg.device.id,
        device_key=load_or_create_device_key(cfg.paths.data_dir),
        trusted=trusted or TrustedKeys(portal_key_folders(cfg)),
        conn_factory=lambda: connect(db_path),
        clock=clock,
    )


def build_kiosk(
    cfg: KioskConfig,
    *,
    clock: Clock | None = None,
    camera: Camera | None = None,
    pin_factory: Factory | None = None,
    with_uplink: bool | None = None,
    with_device: bool = True,
    secret_key: bytes | None = None,
) -> Kiosk:
    """Build the whole kiosk from ``cfg``; raises a :class:`KioskError` naming what is wrong."""
    from kiosk.audio import open_microphone
    from kiosk.core.regions import load_table
    from kiosk.crypto.envelope import sealer_from_config
    from kiosk.references.demo import ensure_demo_references
    from kiosk.references.idcard import CardReferences, IdCardMatcher
    from kiosk.references.inbox import ReferenceInbox
    from kiosk.references.message import load_trusted_keys
    from kiosk.references.online import OnlineVerifier
    from kiosk.references.store import ReferenceStore
    from kiosk.references.wiring import attach_to_uplink
    from kiosk.store.outbox import OutboxRepository
    from kiosk.store.registrations import RegistrationRepository
    from kiosk.uplink.heartbeat import boot_id, clock_synchronised
    from kiosk.vision.agent_matcher import CameraAgentMatcher
    from kiosk.vision.camera import open_camera
    from kiosk.vision.pipeline import FacePipeline
    from kiosk.vision.verifier import CameraFaceVerifier

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
            camera_state=lambda: kiosk_ref[0].camera_state() if kiosk_ref else "starting",
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
    portal_status = None  # status from the portal: a sealed query, a signed answer, 4 s at most
    families = None
    if uplink is not None:
        from kiosk.uplink.family_query import PortalFamilyQuery
        from kiosk.uplink.family_query import attach as attach_family_query
        from kiosk.uplink.status_query import PortalStatusQuery
        from kiosk.uplink.status_query import attach as attach_status_query

        portal_status = PortalStatusQuery(uplink, sealer, device_id=cfg.device.id, clock=clock)
        attach_status_query(uplink, portal_status)
        families = PortalFamilyQuery(uplink, sealer, device_id=cfg.device.id, clock=clock)
        attach_family_query(uplink, families)  # a No. KK registered at another kiosk, 3 s at most
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
    load_table()  # the region table (~0.1 s): load now, not for the first villager
    parts = ServiceParts(
        clock=clock,
        verifier=verifier,
        sealer=sealer,
        cipher=cipher,
        lookup_key=lookup_key,
        repo=RegistrationRepository(conn, outbox),
        device=device_info,
        data_dir=data_dir,
        audit=lambda kind, actor, subject: agents.audit.record(kind, actor, subject),
        clock_synced=clock_synchronised,
        id_cards=verifier if cards is not None else None,
        objections=ObjectionRepository(conn, outbox),
        audit_tx=lambda tx, kind, actor, subject: agents.audit.append(tx, kind, actor, subject),
        photo=verifier.preview_jpeg,
        portal_status=portal_status,
        families=families,
        microphone=open_microphone(cfg.microphone),
    )
    services = build_services(cfg, parts)
    registration, status = services.registration, services.status
    if uplink is not None and services.objections is not None:
        filing = services.objections  # the window comes with the portal's signed config
        uplink.on_config(lambda update: filing.apply_config(update.settings))
    agent_matcher: Any = CameraAgentMatcher(
        camera, pipeline, clock, passive_only=face_timeouts.capture.passive_only
    )
    if demo is not None:  # the demo's agents: the replay camera shows their own photos
        from kiosk.agents.demo import DemoAgentMatcher

        agent_matcher = DemoAgentMatcher(agent_matcher, camera)
    agents = build_agents(
        cfg, parts, registration, conn=conn, cipher=cipher, outbox=outbox, matcher=agent_matcher
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

    from kiosk.reports.wiring import build_community

    community = build_community(
        cfg,
        conn=conn,
        db_path=db_path,
        cipher=cipher,
        clock=clock,
        outbox=outbox,
        agents=agents,
        sealer=sealer,
        lookup_key=lookup_key,
        trusted=trusted,
        uplink=uplink,
    )
    late["device"], late["audit"] = device, agents.audit
    usb = build_usb(cfg, clock, db_path)
    from kiosk.printer import open_printer
    from kiosk.speech.espeak import Speech
    from ui.qrscan import CameraQrReader

    printer = open_printer(cfg.ui.printer_backend, cfg.ui.printer)
    wsgi = build_ui(
        cfg,
        services,
        usb=usb,
        agents=agents,
        community=community,
        speech=Speech(cfg.paths.data_dir / "speech-cache", enabled=cfg.ui.speech),
        printer=printer,
        live=verifier,
        qr=CameraQrReader(lambda: _latest_image(camera)),
        pending=(uplink.pending_count if uplink is not None else None),
        presence=(_PresenceView(device.presence) if device and device.presence else None),
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
    kiosk.watchdog = watch_camera(kiosk)
    for chore in (agents.housekeeping, registration.tick, status.tick, references.purge_expired):
        kiosk.every_tick(chore)
    if services.voice is not None:
        kiosk.every_tick(services.voice.tick)  # an abandoned spoken note leaves memory
    if device is not None:
        kiosk.every_tick(lambda: device.set_status(kiosk.light_status()))
        kiosk.on_stop(device.close)
    kiosk.on_stop(pipeline.close)
    kiosk.on_stop(conn.close)
    return kiosk


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


def _face_timeouts(cfg: KioskConfig, demo: bool) -> FaceTimeouts:
    """The face attempt's budgets; the demo's replayed photos cannot blink or turn their head."""
    import dataclasses

    from kiosk.vision.verifier import FaceTimeouts

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


def _walked_away(registration: RegistrationService, agents: AgentService) -> None:
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


def _latest_image(camera: Camera) -> Any:
    frame = camera.latest()
    return None if frame is None else frame.image


def serve(cfg: KioskConfig) -> int:
    """Build the kiosk from ``cfg`` and run it under waitress until interrupted; exit code."""
    kiosk = build_kiosk(cfg)  # a KioskError here names what is wrong; kiosk.cli prints it
    return serve_until_stopped(kiosk)
