"""Agent login: agent id + PIN, then the agent's own live face; failures throttled on disk."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.agents.accounts import Agent, AgentRepository, normalise_agent_id
from kiosk.agents.audit_store import AuditLog
from kiosk.agents.throttle_store import UNKNOWN_KEY, ThrottleRepository
from kiosk.core import throttle
from kiosk.core.clock import Clock
from kiosk.core.throttle import ThrottlePolicy
from kiosk.core.vouch import cosigned
from kiosk.errors import AgentAuthError, InputError, LoginThrottled

log = logging.getLogger(__name__)

AgentFaceMatcher = Callable[[bytes], str | None]
"""Capture the person at the camera and match them against an agent's template (float32 bytes).

Returns the match band (``HIGH``/``MEDIUM``/``LOW``/``NONE``), or None when no live, usable face
was captured. A face that is not live must give ``NONE`` or None, never a match band.
"""


class AgentAuth:
    """Checks PINs and faces, keeping the persistent throttle and the audit log up to date."""

    def __init__(
        self,
        accounts: AgentRepository,
        throttle_repo: ThrottleRepository,
        matcher: AgentFaceMatcher,
        clock: Clock,
        audit: AuditLog,
        policy: ThrottlePolicy | None = None,
    ) -> None:
        self._accounts = accounts
        self._throttle = throttle_repo
        self._matcher = matcher
        self._clock = clock
        self._audit = audit
        self.policy = policy or ThrottlePolicy()

    def _key(self, agent_id_text: str) -> tuple[str, Agent | None]:
        try:
            aid = normalise_agent_id(agent_id_text)
        except InputError:
            return UNKNOWN_KEY, None
        agent = self._accounts.get(aid)
        if agent is None or not agent.active:
            return UNKNOWN_KEY, None
        return aid, agent

    def wait_s(self, agent_id_text: str) -> float:
        """Seconds before ``agent_id_text`` may try again (0 when allowed now)."""
        key, _ = self._key(agent_id_text)
        return throttle.check(self._throttle.get(key), self.policy, self._clock.now()).wait_s

    def _guard(self, key: str, agent: Agent | None) -> None:
        verdict = throttle.check(self._throttle.get(key), self.policy, self._clock.now())
        if not verdict.allowed:
            self._audit.record("agent_login_throttled", agent.agent_id if agent else None)
            raise LoginThrottled(
                f"too many failed attempts; try again in {int(verdict.wait_s + 0.999)} s",
                verdict.wait_s,
            )

    def _fail(self, key: str, agent: Agent | None, message: str) -> AgentAuthError:
        now = self._clock.now()
        state = throttle.record_failure(throttle.normalise(self._throttle.get(key), now), now)
        self._throttle.put(key, state)
        self._audit.record("agent_login_failed", agent.agent_id if agent else None)
        wait = throttle.check(state, self.policy, now).wait_s
        if wait > 0:
            return LoginThrottled(f"{message}; too many failed attempts, wait {int(wait)} s", wait)
        return AgentAuthError(message)

    def check_pin(self, agent_id_text: str, pin: str) -> Agent:
        """First step: the id and PIN; returns the agent or raises (throttled/wrong)."""
        key, agent = self._key(agent_id_text)
        self._guard(key, agent)
        ok = self._accounts.verify_pin(agent.agent_id if agent else "", pin)
        if agent is None or not ok:
            raise self._fail(key, agent, "wrong agent id or PIN")
        return agent

    def check_face(self, agent: Agent) -> str:
        """Second step: the agent's live face; returns the band, resets the throttle."""
        band = self._face_band(agent, "the face did not match this agent")
        self._throttle.put(agent.agent_id, throttle.record_success(throttle.ThrottleState()))
        self._audit.record("agent_login_ok", agent.agent_id)
        return band

    def cosign(self, agent: Agent) -> str:
        """The agent's live face as a co-signature (e.g. for a vouch); returns the band."""
        return self._face_band(agent, "the agent's face did not match")

    def _face_band(self, agent: Agent, refusal: str) -> str:
        """The band of the agent's live face if it co-signs; else a throttled failure."""
        self._guard(agent.agent_id, agent)
        band = self._match(agent)
        if band is None or not cosigned(band):
            raise self._fail(agent.agent_id, agent, refusal)
        return band

    def _match(self, agent: Agent) -> str | None:
        template = self._accounts.template(agent.agent_id)
        if template is None:
            raise AgentAuthError(
                "no face template is enrolled for this agent; enrol it again at provisioning"
            )
        return self._matcher(template)
