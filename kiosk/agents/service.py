"""Agent mode use-cases: login/logout, assisted and vouched registrations, help requests,
Dasa Wisma roster edits and portal updates, and the audit log - behind one facade."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.agents.accounts import Agent, Permission
from kiosk.agents.auth import AgentAuth
from kiosk.agents.help_store import HelpRequest
from kiosk.agents.ports import AgentStores, Tx
from kiosk.agents.roster_store import StoredHousehold
from kiosk.config import AgentsConfig
from kiosk.core import roster as rules
from kiosk.core import vouch as vouch_rules
from kiosk.core.audit import ChainReport
from kiosk.core.clock import Clock
from kiosk.core.ids import uuid7
from kiosk.core.upkeep import RosterPolicy, UpkeepRow, upkeep_list
from kiosk.errors import (
    AgentAuthError,
    FlowError,
    FormError,
    InputError,
    KioskError,
)
from kiosk.services.ports import Sealer
from kiosk.services.registration import RegistrationService
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)

HELP_SOURCES: frozenset[str] = frozenset({"button", "screen", "face"})
"""Where a "call an agent" request may come from."""


@dataclass(frozen=True)
class AgentTimeouts:
    """Agent session limits, seconds."""

    idle_s: float = 300.0  # no action for this long ends the session
    max_s: float = 3600.0  # a session never lasts longer than this
    face_step_s: float = 120.0  # between a correct PIN and the face check
    audit_flush_s: float = 300.0  # queue new audit entries for the portal this often

    def __post_init__(self) -> None:
        if min(self.idle_s, self.max_s, self.face_step_s, self.audit_flush_s) <= 0:
            raise ValueError("agent time-outs must be positive (seconds)")

    @classmethod
    def from_config(cls, cfg: AgentsConfig) -> AgentTimeouts:
        """The ``[agents]`` session settings of the kiosk configuration."""
        return cls(cfg.session_idle_s, cfg.session_max_s, cfg.face_step_s, cfg.audit_flush_s)


@dataclass
class AgentSession:
    """The logged-in agent (one at a time: the kiosk has one screen)."""

    token: str
    agent: Agent
    started: float  # monotonic seconds
    last: float  # monotonic seconds


class AgentService:
    """The facade the UI, the firmware callbacks and the uplink handlers call."""

    def __init__(
        self,
        *,
        stores: AgentStores,
        auth: AgentAuth,
        sealer: Sealer,
        clock: Clock,
        device_id: str,
        registration: RegistrationService | None = None,
        timeouts: AgentTimeouts | None = None,
        photo: Callable[[], bytes | None] | None = None,
        on_help: Callable[[HelpRequest], None] | None = None,
        roster_policy: RosterPolicy | None = None,
    ) -> None:
        self.roster_policy = roster_policy or RosterPolicy()
        self._transaction, self._outbox, self._help = stores.transaction, stores.outbox, stores.help
        self.accounts, self.roster, self.audit = stores.accounts, stores.roster, stores.audit
        self.auth, self._sealer, self._clock, self._device_id = auth, sealer, clock, device_id
        self._registration, self._photo, self._on_help = registration, photo, on_help
        self.timeouts = timeouts or AgentTimeouts()
        self._lock = threading.RLock()
        self._session: AgentSession | None = None
        self._pin_ok: tuple[Agent, float] | None = None  # (agent, monotonic deadline)
        self._last_flush: float | None = None  # monotonic seconds

    # --- login ---------------------------------------------------------------------------
    def login_pin(self, agent_id: str, pin: str) -> Agent:
        """Step 1: id + PIN. Raises AgentAuthError / LoginThrottled. Then call login_face."""
        with self._lock:
            self._pin_ok = None
            agent = self.auth.check_pin(agent_id, pin)
            self._pin_ok = (agent, self._clock.monotonic() + self.timeouts.face_step_s)
            return agent

    def pending_face(self) -> Agent | None:
        """The agent whose PIN was right and whose face is still to be checked, if any."""
        with self._lock:
            if self._pin_ok is None or self._clock.monotonic() > self._pin_ok[1]:
                self._pin_ok = None
                return None
            return self._pin_ok[0]

    def login_face(self) -> str:
        """Step 2: the agent's live face; returns the agent session token."""
        with self._lock:
            agent = self.pending_face()
            if agent is None:
                raise AgentAuthError("enter the agent id and PIN first")
            try:
                self.auth.check_face(agent)
            except AgentAuthError:
                self._pin_ok = None
                raise
            self._pin_ok = None
            self._end_session(None)
            now = self._clock.monotonic()
            token = secrets.token_urlsafe(24)
            self._session = AgentSession(token, agent, now, now)
            if not agent.on_duty:
                self.accounts.set_on_duty(agent.agent_id, True)
                self.audit.record("agent_duty_on", agent.agent_id)
            log.info("agent %s logged in", agent.agent_id)
            return token

    def login(self, agent_id: str, pin: str) -> str:
        """Both steps at once (CLI, tests); returns the session token."""
        with self._lock:
            self.login_pin(agent_id, pin)
            return self.login_face()

    def current(self, token: str | None) -> AgentSession:
        """The live agent session for ``token`` (touching it); raises AgentAuthError."""
        with self._lock:
            self.tick()
            s = self._session
            if s is None or token is None or not secrets.compare_digest(s.token, token):
                raise AgentAuthError("no agent is logged in; log in again")
            s.last = self._clock.monotonic()
            fresh = self.accounts.get(s.agent.agent_id)
            if fresh is None or not fresh.active:
                self._end_session("agent_logout")
                raise AgentAuthError("this agent account is no longer active")
            s.agent = fresh
            return s

    def active(self) -> bool:
        """True while an agent is logged in."""
        with self._lock:
            self.tick()
            return self._session is not None

    def logout(self, token: str | None) -> None:
        """End the agent session (idempotent)."""
        with self._lock:
            s = self._session
            if s is not None and token is not None and secrets.compare_digest(s.token, token):
                self._end_session("agent_logout")

    def tick(self) -> None:
        """Apply the idle and maximum time-outs (call periodically)."""
        with self._lock:
            s = self._session
            if s is None:
                return
            now = self._clock.monotonic()
            if now - s.last >= self.timeouts.idle_s or now - s.started >= self.timeouts.max_s:
                self._end_session("agent_timeout")

    def housekeeping(self) -> None:
        """Periodic work for the main loop: time-outs, and audit batches when they are due."""
        self.tick()
        now = self._clock.monotonic()
        if self._last_flush is None or now - self._last_flush >= self.timeouts.audit_flush_s:
            self._last_flush = now
            self.flush_audit()

    def presence_lost(self) -> None:
        """The presence sensor sees nobody: end any agent session at once."""
        with self._lock:
            self._pin_ok = None
            if self._session is not None:
                self._end_session("agent_presence_lost")

    def _end_session(self, kind: str | None) -> None:
        s, self._session = self._session, None
        if s is not None and kind is not None:
            self.audit.record(kind, s.agent.agent_id)
            log.info("agent session ended (%s)", kind)

    def set_duty(self, token: str, on_duty: bool) -> None:
        """The logged-in agent goes on or off duty."""
        with self._lock:
            agent = self.current(token).agent
            self.accounts.set_on_duty(agent.agent_id, on_duty)
            self.audit.record("agent_duty_on" if on_duty else "agent_duty_off", agent.agent_id)

    def on_duty(self) -> list[Agent]:
        """Agents on duty now (for "call an agent")."""
        return self.accounts.on_duty()

    def _require(self, token: str, permission: Permission) -> Agent:
        agent = self.current(token).agent
        if not agent.may(permission):
            raise AgentAuthError(f"the role {agent.role} may not {permission.value}")
        return agent

    def apply_agent_roster(self, version: int, agents: list[Mapping[str, Any]]) -> list[str]:
        """Apply the portal's list of agents for this kiosk (uplink ``roster`` topic).

        Each item: ``agent_id``, ``display_name``, ``pin_hash`` (see ``encode_pin_hash``),
        ``valid_until`` (wall seconds) and optionally ``role`` and ``face_template`` (base64
        float32). Portal accounts missing from the list are deactivated; accounts enrolled at
        provisioning are left alone. Returns the ids applied; a bad item is skipped and logged.
        """
        applied: list[str] = []
        with self._lock:
            for item in agents:
                try:
                    raw = item.get("face_template")
                    template = base64.b64decode(raw, validate=True) if raw else None
                    agent = self.accounts.upsert_from_portal(
                        str(item["agent_id"]),
                        str(item.get("display_name") or item["agent_id"]),
                        str(item["pin_hash"]),
                        role=str(item.get("role", "operator")),
                        template=template,
                        version=version,
                        valid_until=float(item["valid_until"]),
                    )
                except (KioskError, KeyError, TypeError, ValueError) as err:
                    log.warning("portal agent entry skipped: %s", type(err).__name__)
                    continue
                applied.append(agent.agent_id)
                self.audit.record("agent_enrolled", agent.agent_id)
            for aid in self.accounts.portal_ids():
                if aid not in applied:
                    self.accounts.deactivate(aid)
        return applied

    # --- assisted and vouched registrations ----------------------------------------------
    def _reg(self) -> RegistrationService:
        if self._registration is None:
            raise FlowError("no registration service is wired into agent mode")
        return self._registration

    def start_assisted(self, token: str) -> str:
        """Start a registration on someone's behalf; returns the registration token."""
        with self._lock:
            agent = self._require(token, Permission.ASSIST)
            reg_token = self._reg().start(assisted_by=agent.agent_id)
            self.audit.record("assisted_start", agent.agent_id)
            self._answer_help(agent.agent_id)
            return reg_token

    def assist(self, token: str, reg_token: str) -> None:
        """Mark an already running registration as assisted by the logged-in agent."""
        with self._lock:
            agent = self._require(token, Permission.ASSIST)
            self._reg().assisted(reg_token, agent.agent_id)
            self.audit.record("assisted_start", agent.agent_id)
            self._answer_help(agent.agent_id)

    def vouch(self, token: str, reg_token: str, reason: str, photo: bytes | None = None) -> str:
        """Vouch for the resident of ``reg_token`` after failed face checks; returns the vouch id.

        Needs the reason code, a photo of the agent with the resident (``photo`` or taken by
        the camera) and the agent's own live face as co-signature. The vouch record is sealed
        for the portal's review and queued in the outbox with its audit entry, in one
        transaction; then the registration continues as ``vouched``.
        """
        with self._lock:
            agent = self._require(token, Permission.VOUCH)
            why = vouch_rules.reason(reason)
            person = self._reg().vouch_subject(reg_token)  # only after failed face checks
            picture = photo if photo is not None else (self._photo() if self._photo else None)
            try:
                vouch_rules.check_photo(picture or b"")
            except ValueError as err:
                raise InputError(str(err)) from err
            assert picture is not None
            try:
                band = self.auth.cosign(agent)
            except AgentAuthError:
                self.audit.record("vouch_refused", agent.agent_id)
                raise
            now = self._clock.now()
            vouch_id = uuid7(now, os.urandom(10))
            record = {
                "vouch_id": vouch_id,
                "device_id": self._device_id,
                "agent_id": agent.agent_id,
                "agent_role": agent.role,
                "reason": why.code,
                "agent_match_band": band,
                "face_attempts": person.attempts,
                "nik": person.nik,
                "photo_jpeg": base64.b64encode(picture).decode("ascii"),
                "at": now,
                "review_required": True,
            }
            payload = self._sealer.seal(Name.VOUCH, vouch_id, record)
            with self._transaction() as c:
                self._outbox.enqueue(vouch_id, Name.VOUCH, payload, now, tx=c)
                self.audit.append(c, "vouch", agent.agent_id, vouch_id)
            self._reg().vouched(reg_token, agent.agent_id, vouch_id)
            self._answer_help(agent.agent_id)
            return vouch_id

    # --- help requests -------------------------------------------------------------------
    def request_help(self, source: str) -> HelpRequest:
        """Someone pressed the help button or "call an agent"; repeated presses merge."""
        if source not in HELP_SOURCES:
            raise InputError(f"unknown help source {source!r}")
        with self._lock:
            open_now = self.pending_help()
            same = [h for h in open_now if h.source == source]
            if same:
                return same[0]
            now = self._clock.now()
            req = HelpRequest(uuid7(now, os.urandom(10)), source, now, "open", None)
            with self._transaction() as c:
                self._help.add(c, req)
                self.audit.append(c, "help_requested", None, req.request_id)
        if self._on_help is not None:
            self._on_help(req)
        return req

    def pending_help(self) -> list[HelpRequest]:
        """Open help requests, oldest first."""
        return self._help.open_requests()

    def take_help(self, token: str, request_id: str) -> None:
        """The logged-in agent takes a help request."""
        with self._lock:
            agent = self.current(token).agent
            self._close_help(request_id, "taken", agent.agent_id, "help_taken")

    def _answer_help(self, agent_id: str) -> None:
        """An agent is now with the person at the kiosk: every open request is answered.

        The kiosk has one screen and one person in front of it, so a request left open after
        an agent assisted or vouched would only send a second agent to someone already helped.
        """
        for h in self.pending_help():
            with contextlib.suppress(InputError):  # taken meanwhile by another screen tap
                self._close_help(h.request_id, "taken", agent_id, "help_taken")

    def set_help_alert(self, alert: Callable[[HelpRequest], None]) -> None:
        """Also call ``alert`` (the buzzer) for every new help request, from any source."""
        self._on_help = alert

    @property
    def help_alert(self) -> bool:
        """True when a new help request also sounds something in the office (the buzzer)."""
        return self._on_help is not None

    def cancel_help(self, source: str | None = None) -> int:
        """Cancel open requests (from ``source``, or all); returns how many were cancelled."""
        with self._lock:
            n = 0
            for h in self.pending_help():
                if source is None or h.source == source:
                    self._close_help(h.request_id, "cancelled", None, "help_cancelled")
                    n += 1
            return n

    def _close_help(self, request_id: str, state: str, agent_id: str | None, kind: str) -> None:
        with self._transaction() as c:
            if not self._help.close(c, request_id, state, agent_id, self._clock.now()):
                raise InputError("this help request is no longer open")
            self.audit.append(c, kind, agent_id, request_id)

    # --- roster --------------------------------------------------------------------------
    def my_roster(self, token: str) -> list[StoredHousehold]:
        """The logged-in cadre's households."""
        with self._lock:
            agent = self._require(token, Permission.ROSTER)
            return self.roster.by_cadre(agent.agent_id)

    def household(self, token: str, household_id: str) -> StoredHousehold:
        """One of the logged-in cadre's households."""
        with self._lock:
            agent = self._require(token, Permission.ROSTER)
            found = self.roster.get(household_id)
            if found is None or found.household.cadre_id != agent.agent_id:
                raise InputError("this household is not on your roster")
            return found

    def save_household(self, token: str, data: Mapping[str, Any]) -> rules.Household:
        """Validate and store the cadre's edit (or a new household) and queue it for the portal.

        A new household (no ``household_id``) gets an id here. The household row, its history
        entries, the sealed outbox row and the audit entry are written in one transaction.
        """
        with self._lock:
            agent = self._require(token, Permission.ROSTER)
            now = self._clock.now()
            body = dict(data)
            hid = body.get("household_id") or uuid7(now, os.urandom(10))
            body["household_id"] = hid
            body["cadre_id"] = agent.agent_id
            new = rules.household_from_dict(body)
            stored = self.roster.get(hid)
            if stored is not None and stored.household.cadre_id != agent.agent_id:
                raise InputError("this household is not on your roster")
            other = self.roster.id_for_kk(new.kk)
            if other is not None and other != hid:
                raise FormError("this No. KK is already on a roster", "kk")
            cap = self.roster_policy.cap
            if stored is None and self.roster_policy.full(self.roster.count(agent.agent_id)):
                raise FormError(f"a roster holds at most {cap} households", "roster_cap")
            current = stored.household if stored else None
            result = rules.edit(current, new, stored.pending if stored else {}, now, agent.agent_id)
            if stored is not None and not result.changes:
                return new
            version = stored.version if stored else 0
            with self._transaction() as c:
                self.roster.save(c, new, version, result.pending, now)
                self.roster.add_history(c, result.changes)
                self._enqueue_roster(c, new, version, result.pending, now)
                self.audit.append(c, "roster_edit", agent.agent_id, hid)
            return new

    def _enqueue_roster(
        self,
        c: Tx,
        household: rules.Household,
        base_version: int,
        pending: Mapping[str, rules.LocalEdit],
        now: float,
    ) -> str:
        record_id = uuid7(now, os.urandom(10))
        record = {
            "record_id": record_id,
            "device_id": self._device_id,
            "household_id": household.household_id,
            "cadre_id": household.cadre_id,
            "base_version": base_version,
            "household": rules.household_to_dict(household),
            "edits": rules.pending_to_json(pending),
            "at": now,
        }
        payload = self._sealer.seal(Name.HOUSEHOLD, record_id, record)
        self._outbox.enqueue(record_id, Name.HOUSEHOLD, payload, now, tx=c)
        return record_id

    def apply_roster_update(self, message: Mapping[str, Any]) -> rules.MergeResult:
        """Apply a household update from the portal under the conflict rule (core.roster).

        ``message``: ``{household_id, version, updated_at, household | None}``. Local edits
        that win stay pending and are queued to the portal again.
        """
        update = parse_roster_update(message)
        with self._lock:
            stored = self.roster.get(update.household_id)
            now = self._clock.now()
            result = rules.merge(
                stored.household if stored else None,
                stored.version if stored else 0,
                stored.pending if stored else {},
                update,
                now,
            )
            if result.stale:
                return result
            conflict = any(ch.action in rules.CONFLICTS for ch in result.changes)
            with self._transaction() as c:
                if result.household is None:
                    self.roster.delete(c, update.household_id)
                else:
                    self.roster.save(c, result.household, result.version, result.pending, now)
                    if result.pending:
                        self._enqueue_roster(
                            c, result.household, result.version, result.pending, now
                        )
                self.roster.add_history(c, result.changes)
                kind = "roster_conflict" if conflict else "roster_portal_applied"
                self.audit.append(c, kind, None, update.household_id)
            return result

    def upkeep(self, token: str) -> list[UpkeepRow]:
        """The cadre's households for upkeep: due ones first, with the last change of each."""
        with self._lock:
            agent = self._require(token, Permission.ROSTER)
            stored = self.roster.by_cadre(agent.agent_id)
            return upkeep_list(
                [(s.household, s.updated_at) for s in stored],
                self.roster.history,
                self.roster.registered_at,
                self._clock.now(),
                self.roster_policy.due_after_days,
            )

    def roster_history(self, token: str, household_id: str) -> list[rules.Change]:
        """The change history of one of the cadre's households."""
        with self._lock:
            self.household(token, household_id)
            return self.roster.history(household_id)

    # --- audit ---------------------------------------------------------------------------
    def flush_audit(self) -> str | None:
        """Queue the audit entries not yet sent as one sealed outbox row; its id or None."""
        with self._lock:
            return self.audit.flush(self._sealer, self._device_id)

    def verify_audit(self) -> ChainReport:
        """Verify the audit chain (and that it reaches every head already sent)."""
        return self.audit.verify_chain()


class HelpCaller:
    """The UI's ``AgentCaller`` port over the agent service: "call an agent" queues a request."""

    def __init__(self, service: AgentService) -> None:
        self._service = service

    def call(self, reason: str) -> None:
        """Queue a help request; ``face`` after failed face checks, else from the screen."""
        source = "face" if reason == "face" else "screen"
        try:
            self._service.request_help(source)
        except KioskError as err:  # the person is still told help is coming; never a dead end
            log.warning("help request not stored: %s", type(err).__name__)


def parse_roster_update(message: Mapping[str, Any]) -> rules.PortalUpdate:
    """Validate a portal roster message into a :class:`PortalUpdate`; raises FormError."""
    if not isinstance(message, Mapping):
        raise FormError("a roster update must be a JSON object", "")
    hid = message.get("household_id")
    version = message.get("version")
    updated_at = message.get("updated_at")
    if not isinstance(hid, str) or not hid:
        raise FormError("roster update: household_id is missing", "household_id")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormError("roster update: version must be a positive integer", "version")
    if not isinstance(updated_at, int | float) or isinstance(updated_at, bool):
        raise FormError("roster update: updated_at must be seconds since the epoch", "updated_at")
    body = message.get("household")
    household = None
    if body is not None:
        household = rules.household_from_dict(body)
        if household.household_id != hid:
            raise FormError("roster update: body and household_id differ", "household_id")
    return rules.PortalUpdate(hid, version, float(updated_at), household)


__all__ = [
    "HELP_SOURCES",
    "AgentService",
    "AgentSession",
    "AgentTimeouts",
    "HelpCaller",
    "HelpRequest",
    "parse_roster_update",
]
