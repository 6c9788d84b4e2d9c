"""Objections (sanggah): a person (or an agent on their behalf) contests a decision.

An objection is filed from an opened status check (:class:`ObjectionTarget`, built by the
status service after the receipt code or a verified face matched), inside the window the
portal announces in its signed ``config`` (``objection_window_days``, default 30 days after the
decision). It carries a reason category, an optional typed note (bounded), and an optional
evidence photo (a document held up to the camera: JPEG in memory only, then sealed into the
record) and an optional spoken note (a WAV from the microphone, memory only, sealed likewise;
kiosk.services.voice records it). It is committed through the one way into the outbox, sealed
to the portal's key, with a local row that says only what the status check must show. Refusals
raise :class:`~kiosk.errors.ObjectionRefused` with a code the UI turns into spoken words; nothing
the person entered is dropped by a refusal (the draft stays).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.clock import Clock
from kiosk.core.ids import uuid7
from kiosk.core.names import Name
from kiosk.core.objection import (
    DEFAULT_WINDOW_DAYS,
    check_reason,
    clean_note,
    window_for,
)
from kiosk.core.portal_status import nik_digest
from kiosk.core.voice import VoiceNote, sealed_form
from kiosk.errors import FlowError, ObjectionRefused
from kiosk.services.ports import (
    OBJECTION_OPEN_STATES,
    NewObjection,
    ObjectionStore,
    Sealer,
    keyed_hash,
)
from kiosk.services.voice import VoiceRecorder

log = logging.getLogger(__name__)

EVIDENCE_MAX_BYTES = 700 * 1024
"""An evidence JPEG larger than this is refused (base64 stays under the schema's bound)."""

AuditTx = Callable[[Any, str, str | None, str | None], Any]
"""``audit(tx, kind, actor, subject)``: append to the audit chain inside the caller's open
transaction ``tx`` (kiosk.agents.audit_store.AuditStore.append)."""
Photo = Callable[[], bytes | None]


@dataclass(frozen=True)
class ObjectionTarget:
    """The decided registration a person may object to (the NIK stays in memory only)."""

    nik: str
    registration_id: str
    record_id: str
    receipt_no: str
    status: str  # eligible | not_eligible
    decided_at: float
    source: str  # portal | kiosk: where the decision was read from
    open_objection: bool  # an objection to it is still open (known here or at the portal)


@dataclass
class ObjectionDraft:
    """An objection being filled in (memory only)."""

    target: ObjectionTarget
    filed_by: str
    agent_id: str | None
    session_key: str = field(default_factory=lambda: secrets.token_hex(16))
    reason_code: str | None = None
    note: str | None = None
    evidence: bytes | None = None  # JPEG, memory only until sealed
    objection_id: str | None = None  # set once committed


class ObjectionService:
    """Drafts (keyed by the caller's session token) and the commit of objections."""

    def __init__(
        self,
        *,
        clock: Clock,
        repo: ObjectionStore,
        sealer: Sealer,
        lookup_key: bytes,
        device_id: str,
        boot_id: str,
        clock_synced: Callable[[], bool] = lambda: False,
        photo: Photo | None = None,
        audit: AuditTx | None = None,
        ensure_space: Callable[[], None] = lambda: None,
        voice: VoiceRecorder | None = None,
    ) -> None:
        self._clock = clock
        self._repo = repo
        self._sealer = sealer
        self._lookup_key = lookup_key
        self._device_id = device_id
        self._boot_id = boot_id
        self._synced = clock_synced
        self._photo = photo
        self._audit = audit
        self._ensure_space = ensure_space
        self._voice = voice
        self._drafts: dict[str, ObjectionDraft] = {}
        self._lock = threading.Lock()
        self.window_days = DEFAULT_WINDOW_DAYS

    # --- settings from the portal ---------------------------------------------------------
    def apply_config(self, settings: dict[str, Any]) -> None:
        """Take ``objection_window_days`` from a verified, newer signed portal config."""
        days = settings.get("objection_window_days")
        if isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= 365:
            self.window_days = days
            log.info("objection window: %d days after a decision", days)

    @property
    def can_photograph(self) -> bool:
        """True when an evidence photo can be taken here (a camera is wired)."""
        return self._photo is not None

    @property
    def can_record(self) -> bool:
        """True when a spoken note can be offered (a microphone is wired)."""
        return self._voice is not None and self._voice.available

    @property
    def voice_limit_s(self) -> int:
        """Longest spoken note, seconds."""
        return self._voice.max_seconds if self._voice is not None else 0

    # --- rules ------------------------------------------------------------------------------
    def refusal(self, target: ObjectionTarget) -> str | None:
        """Why no objection to ``target`` can be filed now (a refusal code), or None."""
        if target.status not in ("eligible", "not_eligible"):
            return "not_decided"
        if not window_for(target.decided_at, self.window_days).open_at(self._clock.now()):
            return "window_closed"
        if target.open_objection or any(
            o.state in OBJECTION_OPEN_STATES
            for o in self._repo.for_registration(target.registration_id)
        ):
            return "already_open"
        return None

    def closes_at(self, target: ObjectionTarget) -> float:
        """Wall seconds when the window for ``target`` closes."""
        return window_for(target.decided_at, self.window_days).closes_at

    def _refuse_if_needed(self, target: ObjectionTarget) -> None:
        code = self.refusal(target)
        if code is not None:
            raise ObjectionRefused(f"objection refused: {code}", code)

    # --- drafting ---------------------------------------------------------------------------
    def begin(
        self, key: str, target: ObjectionTarget, *, agent_id: str | None = None
    ) -> ObjectionDraft:
        """Start an objection to ``target`` for session ``key`` (refused: ObjectionRefused)."""
        self._refuse_if_needed(target)
        draft = ObjectionDraft(target, "agent" if agent_id else "villager", agent_id)
        with self._lock:
            self._drafts[key] = draft
        return draft

    def draft(self, key: str | None) -> ObjectionDraft:
        """The draft of session ``key``; FlowError when there is none."""
        draft = self._drafts.get(key or "")
        if draft is None:
            raise FlowError("no objection is being filed")
        return draft

    def choose_reason(self, key: str, code: str) -> None:
        """Set the reason category (ObjectionRefused('bad_reason') for an unknown one)."""
        self.draft(key).reason_code = check_reason(code)

    def set_note(self, key: str, text: str | None) -> None:
        """Set the optional typed note; too long: ObjectionRefused, the old note is kept."""
        self.draft(key).note = clean_note(text)

    def take_photo(self, key: str) -> bool:
        """Photograph the document held up now (memory only); False without a camera frame."""
        draft = self.draft(key)
        picture = self._photo() if self._photo is not None else None
        if not picture:
            return False
        if len(picture) > EVIDENCE_MAX_BYTES:
            raise ObjectionRefused("the evidence photo is too large", "evidence_too_large")
        draft.evidence = picture
        return True

    def drop_photo(self, key: str) -> None:
        """Forget the evidence photo."""
        self.draft(key).evidence = None

    # --- the spoken note (kiosk.services.voice holds it under the draft's key) --------------
    def _recorder(self, key: str) -> VoiceRecorder:
        self.draft(key)
        if self._voice is None:
            raise ObjectionRefused("no microphone here", "no_microphone")
        return self._voice

    def start_voice(self, key: str) -> None:
        """Start recording the spoken note; VoiceNoteError says why not (no microphone...)."""
        self._recorder(key).start(_voice_key(key))

    def stop_voice(self, key: str) -> VoiceNote:
        """Stop and keep the spoken note; VoiceNoteError (nothing heard...) keeps the old one."""
        return self._recorder(key).stop(_voice_key(key))

    def drop_voice(self, key: str) -> None:
        """Delete the spoken note."""
        self._recorder(key).drop(_voice_key(key))

    def voice_note(self, key: str | None) -> VoiceNote | None:
        """The spoken note of the draft, or None."""
        return self._voice.note(_voice_key(key or "")) if self._voice is not None else None

    def voice_seconds_left(self, key: str | None) -> int:
        """Whole seconds until the draft's recording stops itself (0: not recording)."""
        return self._voice.seconds_left(_voice_key(key or "")) if self._voice is not None else 0

    def voice_recording(self, key: str | None) -> bool:
        """True while the draft's spoken note is being recorded."""
        return self._voice is not None and self._voice.recording(_voice_key(key or ""))

    def discard(self, key: str | None) -> None:
        """Forget a draft (the person left, or the session ended)."""
        if self._voice is not None:
            self._voice.drop(_voice_key(key or ""))
        with self._lock:
            draft = self._drafts.pop(key or "", None)
        if draft is not None:
            draft.evidence = None
            draft.note = None

    # --- commit -----------------------------------------------------------------------------
    def submit(self, key: str) -> str:
        """Seal and commit the objection with its outbox row; return its id.

        Idempotent per draft: a repeated "Send" (or a retry after a lost answer) finds the
        committed objection instead of writing a second one.
        """
        draft = self.draft(key)
        if draft.objection_id is not None:
            return draft.objection_id
        done = self._repo.by_session_key(draft.session_key)
        if done is not None:
            draft.objection_id = done
            return done
        if draft.reason_code is None:
            raise FlowError("choose a reason before sending the objection")
        if draft.agent_id and self._audit is None:
            raise FlowError("objections filed by an agent need the audit log")
        target = draft.target
        self._refuse_if_needed(target)
        self._ensure_space()
        now = self._clock.now()
        objection_id = uuid7(now, os.urandom(10))
        spoken = self.voice_note(key)
        record = {
            "v": 1,
            "objection_id": objection_id,
            "device_id": self._device_id,
            "registration_id": target.registration_id,
            "record_id": target.record_id,
            "receipt_no": target.receipt_no,
            "nik_digest": nik_digest(target.nik),
            "reason_code": draft.reason_code,
            "note": draft.note,
            "evidence": None
            if draft.evidence is None
            else {"mime": "image/jpeg", "data": base64.b64encode(draft.evidence).decode("ascii")},
            "voice_note": sealed_form(spoken),
            "filed_by": {"role": draft.filed_by, "agent_id": draft.agent_id},
            "decision": {
                "status": target.status,
                "decided_at": target.decided_at,
                "source": target.source,
            },
            "clock": {
                "wall": now,
                "monotonic": self._clock.monotonic(),
                "boot_id": self._boot_id,
                "synced": bool(self._synced()),
            },
        }
        payload = self._sealer.seal(Name.OBJECTION, objection_id, record)
        self._repo.commit(
            NewObjection(
                objection_id=objection_id,
                registration_id=target.registration_id,
                record_id=target.record_id,
                nik_hmac=keyed_hash(self._lookup_key, "nik", target.nik),
                reason_code=draft.reason_code,
                has_note=draft.note is not None or spoken is not None,
                has_evidence=draft.evidence is not None,
                filed_at=now,
                filed_by=draft.filed_by,
                agent_id=draft.agent_id,
                session_key=draft.session_key,
            ),
            payload,
            also=self._audit_entry(draft.agent_id, target.registration_id),
        )
        draft.objection_id = objection_id
        draft.evidence = None  # sealed now; the clear photo goes
        if self._voice is not None:
            self._voice.drop(_voice_key(key))  # and the clear audio
        log.info("objection committed to the outbox (record %s)", objection_id)
        return objection_id

    def _audit_entry(
        self, agent_id: str | None, registration_id: str
    ) -> Callable[[Any], object] | None:
        """The agent's ``objection_filed`` entry, written in the objection's own transaction."""
        audit = self._audit
        if not agent_id or audit is None:
            return None
        return lambda tx: audit(tx, "objection_filed", agent_id, registration_id)


def _voice_key(key: str) -> str:
    """The recorder slot of an objection draft (other screens use other prefixes)."""
    return f"objection:{key}"
