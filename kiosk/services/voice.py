"""Spoken notes being recorded, listened back and re-recorded, keyed by the caller's session.

One recorder for every note screen (an objection, a household report, a proposal): start,
stop (the note is checked: nothing heard, too long), listen (the WAV from memory), record
again, delete. The note stays in memory only; the filing service seals it into its record and
the caller then drops it. A session that ends takes its recording with it (:meth:`discard`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kiosk.core import voice
from kiosk.core.clock import Clock
from kiosk.core.voice import VoiceNote
from kiosk.errors import MicrophoneError, VoiceNoteError
from kiosk.services.ports import Microphone, Recording

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    recording: Recording | None = None
    started_mono: float = 0.0
    note: VoiceNote | None = None


class VoiceRecorder:
    """Recordings and their checked notes, one slot per session key."""

    SLOTS = 4
    """Notes kept at once (one kiosk, one person at a time; an abandoned slot is dropped)."""

    MAX_AGE_S = 900.0
    """A note not filed within this long after it was started is dropped (:meth:`tick`): the
    sessions that hold notes end well before (status checks, agent sessions)."""

    def __init__(self, microphone: Microphone | None, *, clock: Clock, max_seconds: int) -> None:
        self._mic = microphone
        self._clock = clock
        self.max_seconds = max(1, min(int(max_seconds), voice.MAX_SECONDS))
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """True when a microphone is wired (it may still be unplugged: start() says so)."""
        return self._mic is not None

    def start(self, key: str) -> None:
        """Start recording for ``key`` (a note kept so far stays until the new one is checked);
        VoiceNoteError no_microphone / microphone_busy / microphone_failed when it cannot."""
        if self._mic is None:
            raise VoiceNoteError("no microphone is configured", "no_microphone")
        self._stop_running(key)
        try:
            recording = self._mic.start(self.max_seconds)
        except MicrophoneError as err:
            raise VoiceNoteError(str(err), err.code) from err
        with self._lock:
            slot = self._slots.pop(key, None) or _Slot()
            slot.recording, slot.started_mono = recording, self._clock.monotonic()
            self._slots[key] = slot  # newest last
            old = list(self._slots)[: -self.SLOTS]
        for stale in old:
            self.drop(stale)

    def recording(self, key: str | None) -> bool:
        """True while ``key`` is recording."""
        slot = self._slots.get(key or "")
        return slot is not None and slot.recording is not None

    def seconds_left(self, key: str | None) -> int:
        """Whole seconds until the recorder stops itself (0 when not recording)."""
        slot = self._slots.get(key or "")
        if slot is None or slot.recording is None:
            return 0
        used = self._clock.monotonic() - slot.started_mono
        return max(0, int(self.max_seconds - used))

    def stop(self, key: str) -> VoiceNote:
        """Stop and check the recording: the new note replaces the old one; VoiceNoteError
        voice_empty / voice_too_long (the old note, if any, is kept)."""
        with self._lock:
            slot = self._slots.get(key)
            recording = slot.recording if slot is not None else None
            if slot is not None:
                slot.recording = None
        if slot is None or recording is None:
            raise VoiceNoteError("no recording is under way", "voice_empty")
        try:
            wav = recording.stop()
        except MicrophoneError as err:
            raise VoiceNoteError(str(err), err.code) from err
        note = voice.check_note(wav, self.max_seconds)
        slot.note = note
        log.info("spoken note of %.1f s kept in memory", note.seconds)
        return note

    def note(self, key: str | None) -> VoiceNote | None:
        """The checked note of ``key``, or None."""
        slot = self._slots.get(key or "")
        return slot.note if slot is not None else None

    def drop(self, key: str | None) -> None:
        """Delete the note (and stop a recording) of ``key``."""
        self._stop_running(key or "")
        with self._lock:
            self._slots.pop(key or "", None)

    def tick(self) -> None:
        """Drop notes older than MAX_AGE_S (called periodically by the main loop)."""
        now = self._clock.monotonic()
        with self._lock:
            old = [k for k, v in self._slots.items() if now - v.started_mono >= self.MAX_AGE_S]
        for key in old:
            self.drop(key)

    def discard_session(self, token: str) -> None:
        """A session ended: drop every note kept under it (keys are ``<screen>:<token>``)."""
        with self._lock:
            keys = [k for k in self._slots if k.endswith(f":{token}")]
        for key in keys:
            self.drop(key)

    def _stop_running(self, key: str) -> None:
        with self._lock:
            slot = self._slots.get(key)
            recording = slot.recording if slot is not None else None
            if slot is not None:
                slot.recording = None
        if recording is not None:
            try:
                recording.stop()  # its audio is dropped with the return value
            except MicrophoneError:
                log.warning("the microphone failed while a recording was abandoned")
