"""Fixtures for agent mode: a real SQLite store, fake face matcher, readable fake sealer."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.agents import AgentService, build_agent_service
from kiosk.core.clock import FakeClock
from kiosk.core.session import Outcome, Timeouts
from kiosk.core.throttle import ThrottlePolicy
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.fake import JsonSealer
from kiosk.services.ports import FaceCheckResult
from kiosk.services.registration import DeviceInfo, FormInfo, RegistrationService
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.store.registrations import RegistrationRepository

AGENT_PIN = "135790"
TEMPLATE = bytes(range(256)) * 2  # 512 bytes = 128 float32 values
FAST_SCRYPT = "scrypt:1024:8:1"
"""Cheaper scrypt for tests only; production uses AgentRepository's default (2**14)."""
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@dataclass
class FakeMatcher:
    """Returns the next band queued, else ``default``; records the templates it was given."""

    default: str | None = "HIGH"
    queue: list[str | None] = field(default_factory=list)
    seen: list[bytes] = field(default_factory=list)

    def __call__(self, template: bytes) -> str | None:
        self.seen.append(template)
        return self.queue.pop(0) if self.queue else self.default


@dataclass
class FakeVerifier:
    """The resident's face check: returns ``outcome`` each time, with a template."""

    outcome: Outcome = Outcome.RETRY

    def check(self, nik: str) -> FaceCheckResult:
        return FaceCheckResult(self.outcome, b"\x00" * 512, None, "NONE", "live", None)


@dataclass
class Kit:
    """Everything a test needs, rebuilt over the same database by ``restart``."""

    path: Path
    key: bytes
    clock: FakeClock
    matcher: FakeMatcher
    verifier: FakeVerifier
    conn: sqlite3.Connection
    svc: AgentService
    reg: RegistrationService
    wakes: list[int] = field(default_factory=list)
    """One entry per committed outbox row: the relay's wake-up, as ``kiosk.app`` wires it."""

    def restart(self) -> Kit:
        """Close and reopen the database and rebuild the services (a kiosk restart)."""
        self.conn.close()
        return make_kit(self.path, self.key, self.clock, self.matcher, self.verifier)

    def outbox(self, kind: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT payload FROM outbox WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()
        return [json.loads(r[0])["record"] for r in rows]

    def audit_kinds(self) -> list[str]:
        return [e.kind for e in self.svc.audit.entries()]


def make_kit(
    path: Path, key: bytes, clock: FakeClock, matcher: FakeMatcher, verifier: FakeVerifier
) -> Kit:
    conn = connect(path)
    cipher = AtRestCipher(key)
    sealer = JsonSealer()
    wakes: list[int] = []
    outbox = OutboxRepository(conn, on_commit=lambda: wakes.append(len(wakes)))
    reg = RegistrationService(
        clock=clock,
        timeouts=Timeouts(600, 60),
        retry_budget=3,
        nik_parser=lambda text: None,
        verifier=verifier,
        sealer=sealer,
        repo=RegistrationRepository(conn, outbox),
        cipher=cipher,
        lookup_key=b"k" * 32,
        device=DeviceInfo("kiosk-test-01", "3510012001", "0.1.0", "boot-1"),
        form=FormInfo("form-1", "1", "consent-1"),
    )
    svc = build_agent_service(
        conn=conn,
        cipher=cipher,
        lookup_key=b"k" * 32,
        sealer=sealer,
        clock=clock,
        device_id="kiosk-test-01",
        matcher=matcher,
        registration=reg,
        policy=ThrottlePolicy(5, 30.0, 600.0),
        photo=lambda: JPEG,
        outbox=outbox,
    )
    svc.accounts.params = FAST_SCRYPT  # the real cost is checked in test_agent_accounts
    return Kit(path, key, clock, matcher, verifier, conn, svc, reg, wakes)


@pytest.fixture
def kit(tmp_path: Path, clock: FakeClock) -> Iterator[Kit]:
    """A fresh agent-mode kit with one PKH facilitator and one Dasa Wisma cadre enrolled."""
    k = make_kit(tmp_path / "kiosk.sqlite3", os.urandom(32), clock, FakeMatcher(), FakeVerifier())
    k.svc.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", AGENT_PIN, TEMPLATE)
    k.svc.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", "246801", TEMPLATE[::-1])
    yield k
    k.conn.close()
