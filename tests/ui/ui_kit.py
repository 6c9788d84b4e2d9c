"""The UI test kit: the real RegistrationService and StatusService on a real SQLite store in
tmp_path with a real at-rest cipher; doubles only for the face verifier and the sealer.

Tests import it as ``from ui_kit import ...`` (never from ``conftest``: several test folders
have a conftest module, and importing one by name picks whichever was loaded first).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from ui_doubles import FakeAgent, FakeLive, FakePresence, FakeQr, JsonSealer, ScriptedVerifier

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.forms import load_consent, load_form
from kiosk.core.session import Timeouts
from kiosk.crypto.atrest import AtRestCipher
from kiosk.services.registration import DeviceInfo, FormInfo, RegistrationService
from kiosk.services.status import StatusService
from kiosk.store.db import connect
from kiosk.store.registrations import RegistrationRepository
from ui import create_app
from ui.printer import FilePrinter

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


def build_kit(cfg: KioskConfig, tmp_path: Path, **extras: Any) -> Kit:
    """Compose the UI the way the composition root does, with test doubles at the edges."""
    clock = FakeClock(dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC).timestamp())  # TODAY
    timeouts = Timeouts(cfg.ui.inactivity_warning_s, cfg.ui.inactivity_grace_s)
    conn = connect(tmp_path / "kiosk.sqlite3")
    repo = RegistrationRepository(conn)
    verifier = ScriptedVerifier()
    sealer = JsonSealer()
    lookup_key = os.urandom(32)
    form, consent = load_form(), load_consent()

    registration = RegistrationService(
        clock=clock,
        timeouts=timeouts,
        retry_budget=cfg.biometrics.retry_budget,
        verifier=verifier,
        sealer=sealer,
        repo=repo,
        cipher=AtRestCipher(os.urandom(32)),
        lookup_key=lookup_key,
        device=DeviceInfo("kiosk-test-01", cfg.device.village_code, "test", "boot-1"),
        form=FormInfo(form.form_id, str(form.version), consent.version, form),
    )
    status = StatusService(
        clock=clock,
        timeouts=timeouts,
        verifier=verifier,
        repo=repo,
        lookup_key=lookup_key,
    )
    live, presence, agent, qr = FakeLive(), FakePresence(), FakeAgent(), FakeQr()
    printer_file = tmp_path / "printer.bin"
    app = create_app(
        registration=registration,
        cfg=cfg,
        form=form,
        consent=consent,
        status=status,
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
        repo,
        registration,
        status,
        live,
        presence,
        agent,
        qr,
        printer_file,
        lookup_key,
    )
