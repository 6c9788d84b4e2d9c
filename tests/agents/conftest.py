"""Fixtures for agent mode: the services as the composition root builds them (a real SQLite
store and outbox, the package's scripted face verifier and readable JSON sealer)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.agents import AgentService
from kiosk.core.clock import FakeClock
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import AtRestCipher
from kiosk.services.registration import RegistrationService
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.vision.fake import ScriptedVerifier, face
from tests.fixtures.app import compose, kiosk_cfg, outbox_records

AGENT_PIN = "135790"
TEMPLATE = bytes(range(256)) * 2  # 512 bytes = 128 float32 values
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
class Kit:
    """Everything a test needs, rebuilt over the same database by ``restart``."""

    path: Path
    key: bytes
    clock: FakeClock
    matcher: FakeMatcher
    verifier: ScriptedVerifier
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
        return outbox_records(self.conn, kind)

    def audit_kinds(self) -> list[str]:
        return [e.kind for e in self.svc.audit.entries()]


def make_kit(
    path: Path, key: bytes, clock: FakeClock, matcher: FakeMatcher, verifier: ScriptedVerifier
) -> Kit:
    """The registration and agent services over ``path``, built by the composition root."""
    cfg = kiosk_cfg(
        path.parent,
        device={"id": "kiosk-test-01", "village_code": "3510012001"},
        ui={"inactivity_warning_s": 600.0, "inactivity_grace_s": 60.0},
        agents={"pin_max_delay_s": 600.0},
    )
    conn = connect(path)
    wakes: list[int] = []
    graph = compose(
        cfg,
        conn,
        clock,
        verifier=verifier,
        outbox=OutboxRepository(conn, on_commit=lambda: wakes.append(len(wakes))),
        cipher=AtRestCipher(key),
        lookup_key=b"k" * 32,
        photo=lambda: JPEG,
    )
    svc = graph.agents(matcher)
    return Kit(path, key, clock, matcher, verifier, conn, svc, graph.registration, wakes)


def retrying() -> ScriptedVerifier:
    """The resident's face check: RETRY each time (a template, no match), unless re-scripted."""
    return ScriptedVerifier(default=face(Outcome.RETRY))


@pytest.fixture
def kit(tmp_path: Path, clock: FakeClock) -> Iterator[Kit]:
    """A fresh agent-mode kit with one PKH facilitator and one Dasa Wisma cadre enrolled."""
    k = make_kit(tmp_path / "kiosk.sqlite3", os.urandom(32), clock, FakeMatcher(), retrying())
    k.svc.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", AGENT_PIN, TEMPLATE)
    k.svc.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", "246801", TEMPLATE[::-1])
    yield k
    k.conn.close()
