"""What the agent service needs from storage: transactions and one repository per table group.

The SQLite repositories in this package implement these; the service sees only the ports, and
the transaction handle (``Tx``) is opaque to it: it only hands it on, so that rows of several
repositories commit together or not at all.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from kiosk.agents.accounts import Agent
from kiosk.agents.help_store import HelpRequest
from kiosk.agents.roster_store import StoredHousehold
from kiosk.core.audit import AuditEntry, ChainReport
from kiosk.core.roster import Change, Household, LocalEdit
from kiosk.services.ports import Sealer

Tx = sqlite3.Connection
"""An open transaction, passed through to repositories (never used by the service itself)."""


class Transactions(Protocol):
    """Opens one transaction: committed when the block ends, rolled back if it raises."""

    def __call__(self) -> AbstractContextManager[Tx]:
        """The transaction, as a context manager yielding its handle."""
        ...


class Accounts(Protocol):
    """Agent accounts."""

    def get(self, agent_id: str) -> Agent | None:
        """One agent, or None."""
        ...

    def all(self, active_only: bool = True) -> list[Agent]:
        """All agents, by id."""
        ...

    def template(self, agent_id: str) -> bytes | None:
        """An agent's sealed face template, or None."""
        ...

    def on_duty(self) -> list[Agent]:
        """Agents marked on duty."""
        ...

    def set_on_duty(self, agent_id: str, on_duty: bool) -> None:
        """Mark an agent on or off duty."""
        ...

    def portal_ids(self) -> list[str]:
        """Ids of the agents the portal's roster installed."""
        ...

    def deactivate(self, agent_id: str) -> bool:
        """Deactivate an agent; False if unknown."""
        ...

    def upsert_from_portal(
        self,
        agent_id: str,
        display_name: str,
        pin_hash: str,
        *,
        role: str = "operator",
        template: bytes | None = None,
        version: int = 0,
        valid_until: float | None = None,
    ) -> Agent:
        """Install or update one agent of the portal's roster."""
        ...


class Roster(Protocol):
    """Dasa Wisma households and their change history."""

    def get(self, household_id: str) -> StoredHousehold | None:
        """One household, or None."""
        ...

    def by_cadre(self, cadre_id: str) -> list[StoredHousehold]:
        """A cadre's households."""
        ...

    def id_for_kk(self, kk: str) -> str | None:
        """The household holding a No. KK, or None."""
        ...

    def count(self, cadre_id: str) -> int:
        """How many households a cadre keeps."""
        ...

    def registered_at(self, kk: str) -> float | None:
        """When a No. KK last registered (or updated) on this kiosk, or None."""
        ...

    def save(
        self, c: Tx, household: Household, version: int, pending: dict[str, LocalEdit], at: float
    ) -> None:
        """Insert or replace one household."""
        ...

    def delete(self, c: Tx, household_id: str) -> None:
        """Remove one household."""
        ...

    def add_history(self, c: Tx, changes: list[Change]) -> None:
        """Append change history entries."""
        ...

    def history(self, household_id: str) -> list[Change]:
        """A household's change history."""
        ...


class Audit(Protocol):
    """The hash-chained audit log."""

    def append(
        self, c: Tx, kind: str, actor: str | None = None, subject: str | None = None
    ) -> AuditEntry:
        """An entry inside the caller's transaction."""
        ...

    def record(self, kind: str, actor: str | None = None, subject: str | None = None) -> AuditEntry:
        """An entry in its own transaction."""
        ...

    def flush(self, sealer: Sealer, device_id: str) -> str | None:
        """Queue the entries not yet sent as one sealed outbox row."""
        ...

    def verify_chain(self) -> ChainReport:
        """Verify the chain."""
        ...


class HelpRequests(Protocol):
    """Requests for an agent."""

    def add(self, tx: Tx, request: HelpRequest) -> None:
        """Store a new open request."""
        ...

    def open_requests(self) -> list[HelpRequest]:
        """Open requests, oldest first."""
        ...

    def close(self, tx: Tx, request_id: str, state: str, agent_id: str | None, at: float) -> bool:
        """Close an open request; False if it was not open."""
        ...


class Outbox(Protocol):
    """The one way into the outbox."""

    def enqueue(
        self, record_id: str, kind: str, payload: bytes, now: float, *, tx: Tx | None = None
    ) -> None:
        """Add a sealed record inside ``tx``."""
        ...


@dataclass(frozen=True)
class AgentStores:
    """Every storage port of the agent service, over one database."""

    transaction: Transactions
    accounts: Accounts
    roster: Roster
    audit: Audit
    help: HelpRequests
    outbox: Outbox
