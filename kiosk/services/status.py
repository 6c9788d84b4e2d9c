"""Status check: a person sees their registrations only after the same face verification.

A bare NIK reveals nothing. The person types (or shows) their NIK, the kiosk checks their face
against it exactly as at registration, and only an outcome of ``verified`` (a trusted reference
matched now) opens the records; anything else gives "no record can be shown". An agent may look
up a status on a person's behalf through :meth:`StatusService.lookup_for_agent`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.clock import Clock
from kiosk.core.session import Outcome, Timeouts
from kiosk.crypto.atrest import keyed_hash
from kiosk.errors import FlowError, SessionExpired
from kiosk.services.ports import FaceCheckResult, FaceVerifier, NikParser
from kiosk.store.registrations import RegistrationRepository, RegistrationStatus

SHOWN_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.VERIFIED})
"""Face outcomes that open a person's status; PENDING/VOUCHED/RETRY/REJECTED do not."""


@dataclass
class StatusSession:
    """One status check in progress: the claimed NIK, attempts, and the result once verified."""

    started_mono: float
    last_mono: float
    nik: str | None = None
    attempts: int = 0
    verified: bool = False
    records: list[RegistrationStatus] = field(default_factory=list)
    warned: bool = False

    def wipe(self) -> None:
        """Forget everything personal."""
        self.nik = None
        self.records = []
        self.verified = False


@dataclass(frozen=True)
class StatusAnswer:
    """What one face attempt of a status check led to."""

    shown: bool  # True: ``records`` may be shown to the person in front of the kiosk
    records: tuple[RegistrationStatus, ...]
    face: FaceCheckResult
    attempts: int


class StatusService:
    """Holds at most one status check at a time and answers it after face verification."""

    def __init__(
        self,
        *,
        clock: Clock,
        timeouts: Timeouts,
        nik_parser: NikParser,
        verifier: FaceVerifier,
        repo: RegistrationRepository,
        lookup_key: bytes,
    ) -> None:
        self._clock = clock
        self._timeouts = timeouts
        self._parse_nik = nik_parser
        self._verifier = verifier
        self._repo = repo
        self._lookup_key = lookup_key
        self._sessions: dict[str, StatusSession] = {}

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        """Begin a status check (ending any other); return its token."""
        for token in list(self._sessions):
            self.end(token)
        now = self._clock.monotonic()
        token = secrets.token_urlsafe(24)
        self._sessions[token] = StatusSession(started_mono=now, last_mono=now)
        return token

    def get(self, token: str | None) -> StatusSession:
        """The live status check for ``token``; raises :class:`SessionExpired` when gone."""
        session = self._sessions.get(token or "")
        if session is None:
            raise SessionExpired("no active status check; start again")
        idle = self._clock.monotonic() - session.last_mono
        if idle >= self._timeouts.warning_s + self._timeouts.grace_s:
            self.end(token or "")
            raise SessionExpired("the status check timed out; start again")
        session.warned = idle >= self._timeouts.warning_s
        return session

    def touch(self, token: str | None) -> None:
        """The person did something: reset the inactivity timer."""
        session = self.get(token)
        session.last_mono = self._clock.monotonic()
        session.warned = False

    def seconds_left(self, token: str | None) -> float:
        """Seconds until the check is abandoned if nothing happens."""
        session = self.get(token)
        idle = self._clock.monotonic() - session.last_mono
        return max(0.0, self._timeouts.warning_s + self._timeouts.grace_s - idle)

    def end(self, token: str) -> None:
        """End a status check and wipe what it held."""
        session = self._sessions.pop(token, None)
        if session is not None:
            session.wipe()

    @property
    def active(self) -> bool:
        """True while a status check is in progress."""
        return bool(self._sessions)

    # --- steps ---------------------------------------------------------------------------
    def identify(self, token: str, nik_text: str) -> Any:
        """Validate the claimed NIK (raises NikError); nothing about it is revealed yet."""
        session = self.get(token)
        info = self._parse_nik(nik_text)
        session.nik = getattr(info, "nik", None) or "".join(c for c in nik_text if c.isdigit())
        session.verified = False
        session.records = []
        self.touch(token)
        return info

    def check_face(self, token: str) -> StatusAnswer:
        """One face attempt against the claimed NIK; records are released only on VERIFIED."""
        session = self.get(token)
        if session.nik is None:
            raise FlowError("type the NIK before the face check")
        result = self._verifier.check(session.nik)
        self.touch(token)
        if result.template is None and result.coaching is not None:
            return StatusAnswer(False, (), result, session.attempts)
        session.attempts += 1
        if result.outcome in SHOWN_OUTCOMES:
            session.verified = True
            session.records = self._lookup(session.nik)
            return StatusAnswer(True, tuple(session.records), result, session.attempts)
        return StatusAnswer(False, (), result, session.attempts)

    def records(self, token: str) -> tuple[RegistrationStatus, ...] | None:
        """The verified person's records, or None when nothing may be shown."""
        session = self.get(token)
        return tuple(session.records) if session.verified else None

    def lookup_for_agent(self, nik: str, agent_id: str) -> list[RegistrationStatus]:
        """An authenticated agent looks up a status on the person's behalf."""
        if not agent_id:
            raise FlowError("an agent id is required for an assisted status lookup")
        return self._lookup(nik)

    def _lookup(self, nik: str) -> list[RegistrationStatus]:
        return self._repo.by_nik(keyed_hash(self._lookup_key, "nik", nik))
