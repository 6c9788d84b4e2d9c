"""The UI test kit: the real services, built by the composition root's ``build_services``
(through ``tests.fixtures.app.compose``) on a real SQLite store in tmp_path with a real at-rest
cipher; the package's fakes only for the face verifier and the sealer.

Tests import it as ``from ui_kit import ...`` (never from ``conftest``: several test folders
have a conftest module, and importing one by name picks whichever was loaded first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from ui_doubles import (
    FakeAgent,
    FakeLive,
    FakePresence,
    FakeQr,
    JsonSealer,
    ScriptedVerifier,
    face,
)

from kiosk.app import build_ui
from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.printer.fake import FilePrinter
from kiosk.services.registration import RegistrationService
from kiosk.services.status import StatusService
from kiosk.store.db import connect
from kiosk.store.registrations import RegistrationRepository
from tests.fixtures.app import Graph, compose

TODAY = dt.date(2026, 11, 29)
GOOD_NIK = "3510014501900001"
"""A valid NIK (Banyuwangi, Pesanggaran; a woman born 5 January 1990)."""


@dataclass
class Kit:
    """Everything a UI test may poke at."""

    app: Flask
    clock: FakeClock
    verifier: ScriptedVerifier
    sealer: JsonSealer
    repo: RegistrationRepository
    registration: RegistrationService
    status: StatusService
    live: FakeLive
    presence: FakePresence
    agent: FakeAgent
    qr: FakeQr
    printer_file: Path
    lookup_key: bytes
    graph: Graph
    late: dict[str, Any]  # parts bound after the kit is built ("audit": the agents' log)


def build_kit(cfg: KioskConfig, tmp_path: Path, **extras: Any) -> Kit:
    """Compose the UI through the composition root's own functions (``build_services``,
    ``build_ui``), with the package's fakes at the edges: a scripted face verifier, a JSON
    sealer, a file printer and fakes for the optional extras."""
    clock = FakeClock(dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC).timestamp())  # TODAY
    verifier, sealer = ScriptedVerifier(), JsonSealer()
    late: dict[str, Any] = {}
    graph = compose(
        cfg,
        connect(tmp_path / "kiosk.sqlite3"),
        clock,
        verifier=verifier,
        sealer=sealer,
        # the kiosk's own key files: a restart over the same tmp_path reads its data again
        cipher=AtRestCipher(load_or_create_key(tmp_path / "keys" / "data.key")),
        lookup_key=load_or_create_key(tmp_path / "keys" / "lookup.key"),
        objections=False,
        # the agents' audit log, once attach_agents gives the kit agents (kiosk.app binds it late)
        audit=lambda kind, actor, subject: late["audit"].record(kind, actor, subject),
        portal_status=extras.get("portal_status"),  # None: this kiosk's record only
        families=extras.get("families"),  # the portal's No. KK lookup (None: this kiosk only)
    )
    services = graph.services
    live, presence, agent, qr = FakeLive(), FakePresence(), FakeAgent(), FakeQr()
    printer_file = tmp_path / "printer.bin"
    app = build_ui(
        cfg,
        services,
        printer=FilePrinter(printer_file),
        live=extras.get("live", live),
        qr=qr,
        presence=presence,
        agent=agent,
        speech=extras.get("speech"),
        pending=extras.get("pending"),
    )
    return Kit(
        app,
        clock,
        verifier,
        sealer,
        graph.repo,
        services.registration,
        services.status,
        live,
        presence,
        agent,
        qr,
        printer_file,
        graph.parts.lookup_key,
        graph,
        late,
    )


def register(kit: Kit, nik: str, outcome: Outcome | None = None) -> str:
    """A whole registration of ``nik`` through the registration service (the face check
    answers ``outcome`` if given), its session ended; the receipt code."""
    if outcome is not None:
        kit.verifier.script(face(outcome))
    return kit.graph.register(nik)
