"""The fake speech synthesiser: remembers what the kiosk said and serves silence as long as
espeak-ng would take to say it (tests, and machines without espeak-ng)."""

from __future__ import annotations

from kiosk import languages
from kiosk.speech.espeak import speech_key
from kiosk.speech.wav import silence, wav_seconds


class RecordingSpeech:
    """The :class:`~kiosk.services.ports.SpeechSynth` that keeps ``said`` (language, text) in
    order and answers each key with ``words / speed_wpm`` minutes of silence."""

    def __init__(self, *, speed_wpm: int = 140) -> None:
        self.said: list[tuple[str, str]] = []
        self._speed = speed_wpm
        self._known: dict[str, tuple[str, bool]] = {}

    @property
    def available(self) -> bool:
        """Always: the fake speaks every prompt."""
        return True

    def register(self, text: str, language: str, *, personal: bool = False) -> str | None:
        """Remember ``text``; its key is the one espeak-ng's adapter would give it."""
        if not text.strip():
            return None
        self.said.append((language, text))
        key = speech_key(languages.language(language).voice, text)
        self._known[key] = (text, personal)
        return key

    def forget_personal(self) -> None:
        """Drop the personal texts (what was said stays in ``said`` for the test to read)."""
        self._known = {k: v for k, v in self._known.items() if not v[1]}

    def wav(self, key: str) -> bytes | None:
        """Silence as long as the text of ``key`` takes to say, or None for an unknown key."""
        entry = self._known.get(key)
        if entry is None:
            return None
        return silence(60.0 * len(entry[0].split()) / self._speed)

    def duration(self, key: str) -> float | None:
        """Seconds the text of ``key`` takes to say, or None."""
        audio = self.wav(key)
        return wav_seconds(audio) if audio is not None else None
