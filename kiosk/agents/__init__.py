"""Agent mode: accounts, login, vouching, help requests, Dasa Wisma rosters, the audit log.

``AgentService`` (service.py) holds the rules and sees storage only through ``ports``; the
SQLite repositories (accounts, audit_store, help_store, roster_store, throttle_store) hold all
the SQL; :func:`build_agent_service` wires them over one database connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from kiosk.agents.accounts import AgentRepository
from kiosk.agents.audit_store import AuditLog
from kiosk.agents.auth import AgentAuth, AgentFaceMatcher
from kiosk.agents.help_store import HelpRepository
from kiosk.agents.ports import AgentStores
from kiosk.agents.roster_store import RosterRepository
from kiosk.agents.service import AgentService, AgentTimeouts, HelpCaller, HelpRequest
from kiosk.agents.throttle_store import ThrottleRepository
from kiosk.core.clock import Clock
from kiosk.core.throttle import ThrottlePolicy
from kiosk.core.upkeep import RosterPolicy
from kiosk.crypto.atrest import AtRestCipher
from kiosk.services.ports import Sealer
from kiosk.services.registration import RegistrationService
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxRepository


def build_agent_service(
    *,
    conn: sqlite3.Connection,
    cipher: AtRestCipher,
    lookup_key: bytes,
    sealer: Sealer,
    clock: Clock,
    device_id: str,
    matcher: AgentFaceMatcher,
    registration: RegistrationService | None = None,
    timeouts: AgentTimeouts | None = None,
    policy: ThrottlePolicy | None = None,
    photo: Callable[[], bytes | None] | None = None,
    on_help: Callable[[HelpRequest], None] | None = None,
    outbox: OutboxRepository | None = None,
    roster_policy: RosterPolicy | None = None,
) -> AgentService:
    """Wire the agent repositories, login and facade over one open kiosk database.

    ``outbox`` is the kiosk's one way into the outbox (with the uplink's wake-up); by default
    one over ``conn`` that wakes nobody.
    """
    outbox = outbox or OutboxRepository(conn)
    audit = AuditLog(conn, clock, outbox)
    accounts = AgentRepository(conn, cipher, clock)
    auth = AgentAuth(accounts, ThrottleRepository(conn), matcher, clock, audit, policy)
    stores = AgentStores(
        transaction=lambda: transaction(conn),
        accounts=accounts,
        roster=RosterRepository(conn, cipher, lookup_key),
        audit=audit,
        help=HelpRepository(conn),
        outbox=outbox,
    )
    return AgentService(
        stores=stores,
        auth=auth,
        sealer=sealer,
        clock=clock,
        device_id=device_id,
        registration=registration,
        timeouts=timeouts,
        photo=photo,
        on_help=on_help,
        roster_policy=roster_policy,
    )


__all__ = ["AgentService", "AgentTimeouts", "HelpCaller", "HelpRequest", "build_agent_service"]
