"""Agent mode wired into the UI test kit: a real AgentService on the same SQLite file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ui_doubles import JsonSealer
from ui_kit import Kit

from kiosk.agents import AgentService
from kiosk.store.db import connect
from tests.fixtures.app import outbox_records
from ui import services

PIN = "135790"
DW_PIN = "246801"
TEMPLATE = b"\x00\x00\x80?" * 128
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class AgentMatcher:
    """The agent's face check: ``band`` each time (HIGH = it is them)."""

    band: str | None = "HIGH"
    calls: int = 0

    def __call__(self, template: bytes) -> str | None:
        self.calls += 1
        return self.band


@dataclass
class Agents:
    """The agent service of a UI kit and its doubles."""

    svc: AgentService
    matcher: AgentMatcher
    sealer: JsonSealer
    db: Path
    photos: list[bytes] = field(default_factory=list)

    def outbox(self, kind: str) -> list[dict[str, Any]]:
        conn = connect(self.db)
        try:
            return outbox_records(conn, kind)
        finally:
            conn.close()


def attach_agents(
    kit: Kit, tmp_path: Path, enrol: bool = True, matcher: AgentMatcher | None = None
) -> Agents:
    """Build the agent service over the kit's database and plug it into the kit's app."""
    db = tmp_path / "kiosk.sqlite3"
    matcher = matcher or AgentMatcher()
    sealer = JsonSealer()  # its own: the kit's sealer keeps the registrations only
    svc = kit.graph.agents(matcher, connect(db), sealer=sealer, photo=lambda: JPEG)
    if enrol:
        svc.accounts.enrol("AG-PKH-01", "pkh", "Bu Rina", PIN, TEMPLATE)
        svc.accounts.enrol("AG-DW-01", "dasa_wisma", "Bu Sri", DW_PIN, TEMPLATE)
    services(kit.app).agents = svc
    kit.late["audit"] = svc.audit
    return Agents(svc, matcher, sealer, db)
