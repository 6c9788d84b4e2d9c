"""Spoken prompts: espeak-ng renders each string once to a WAV the kiosk serves itself (the
:class:`~kiosk.services.ports.SpeechSynth` adapter; its fake is ``kiosk.speech.fake``).

Rendering a page only *registers* a string and returns a key (fast); the WAV is synthesised
when the browser asks for it. Shared prompts are cached on disk in ``<data_dir>/speech-cache``
as ``<sha256(voice + text)>.wav``; personal strings (a receipt number, a status) are kept in a
small in-memory cache only and never written to disk. If espeak-ng is missing, speech degrades
silently to text (one warning in the log).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

from kiosk import languages
from kiosk.speech.wav import fix_wav_sizes, wav_seconds

log = logging.getLogger(__name__)


_KEY_LEN = 64


def speech_key(voice: str, text: str) -> str:
    """Cache key of one spoken string: hex SHA-256 of voice and text."""
    return hashlib.sha256(f"{voice}\x00{text}".encode()).hexdigest()


class Speech:
    """Registers prompts and synthesises them on demand with espeak-ng."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        enabled: bool = True,
        binary: str = "espeak-ng",
        timeout_s: float = 10.0,
        speed_wpm: int = 140,
        memory_items: int = 64,
    ) -> None:
        self._dir = cache_dir
        self._binary = shutil.which(binary) if enabled else None
        self._timeout = timeout_s
        self._speed = speed_wpm
        self._known: OrderedDict[str, tuple[str, str, bool]] = OrderedDict()
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_items = memory_items
        self._lock = threading.Lock()
        self._warned = False
        if enabled and self._binary is None:
            self._warn_once(f"{binary} not found: prompts will be shown as text only")

    @property
    def available(self) -> bool:
        """True when prompts can be spoken."""
        return self._binary is not None

    def register(self, text: str, language: str, *, personal: bool = False) -> str | None:
        """Remember ``text`` for speaking in the voice of ``language`` (from the registry,
        :mod:`kiosk.languages`); return its key, or None when speech is unavailable.

        ``personal`` strings are synthesised into memory only, never into the disk cache.
        """
        if self._binary is None or not text.strip():
            return None
        voice = languages.language(language).voice
        key = speech_key(voice, text)
        with self._lock:
            self._known[key] = (voice, text, personal)
            self._known.move_to_end(key)
            while len(self._known) > 512:
                self._known.popitem(last=False)
        return key

    def forget_personal(self) -> None:
        """Drop every personal string and its audio (called when a session ends)."""
        with self._lock:
            for key in [k for k, v in self._known.items() if v[2]]:
                del self._known[key]
                self._memory.pop(key, None)

    def wav(self, key: str) -> bytes | None:
        """The WAV bytes for a registered key (synthesising it now if needed), or None."""
        if len(key) != _KEY_LEN or any(c not in "0123456789abcdef" for c in key):
            return None
        with self._lock:
            entry = self._known.get(key)
            cached = self._memory.get(key)
        if entry is None or self._binary is None:
            return None
        if cached is not None:
            return cached
        voice, text, personal = entry
        path = self._dir / f"{key}.wav"
        if not personal and path.is_file():
            return path.read_bytes()
        audio = self._synthesise(voice, text)
        if audio is None:
            return None
        if personal:
            with self._lock:
                self._memory[key] = audio
                while len(self._memory) > self._memory_items:
                    self._memory.popitem(last=False)
        else:
            self._store(path, audio)
        return audio

    def _synthesise(self, voice: str, text: str) -> bytes | None:
        assert self._binary is not None
        try:
            done = subprocess.run(
                [self._binary, "-v", voice, "-s", str(self._speed), "--stdout", "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            self._warn_once(f"espeak-ng failed ({type(err).__name__}): speaking disabled for it")
            return None
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            self._warn_once(f"espeak-ng exited with {done.returncode}; prompt shown as text only")
            return None
        return fix_wav_sizes(done.stdout)

    def duration(self, key: str) -> float | None:
        """Seconds of speech in the prompt ``key`` (synthesising it if needed), or None."""
        audio = self.wav(key)
        return wav_seconds(audio) if audio is not None else None

    def _store(self, path: Path, audio: bytes) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_bytes(audio)
            tmp.replace(path)
        except OSError as err:
            self._warn_once(f"cannot write the speech cache {self._dir}: {err.strerror}")

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", message)
