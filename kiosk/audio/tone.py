"""The fake microphone that ships in the package: a spoken-like tone made at run time.

Like the replay camera, it lets a kiosk without a microphone (a laptop, CI, the demo) go through
the spoken-note screens: every recording is ``seconds`` long (capped at the recorder's limit) of
a 220 Hz tone with a 4 Hz syllable-like envelope, or silence when ``silent`` (the "nothing was
heard" path). ``fail`` makes start() raise what arecord would (no_microphone, microphone_busy).
"""

from __future__ import annotations

import numpy as np

from kiosk.backends import ToneSettings
from kiosk.core import voice
from kiosk.errors import MicrophoneError


def tone_pcm(seconds: float, *, silent: bool = False) -> bytes:
    """``seconds`` of the note tone (or silence) as S16_LE PCM in the one format."""
    n = round(seconds * voice.RATE_HZ)
    if silent:
        return bytes(n * voice.SAMPLE_BYTES)
    t = np.arange(n, dtype=np.float32) / voice.RATE_HZ
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t)
    wave = 0.3 * envelope * np.sin(2 * np.pi * 220.0 * t)
    return (wave * 32767).astype("<i2").tobytes()


class _ToneRecording:
    def __init__(self, seconds: float, silent: bool) -> None:
        self._seconds, self._silent = seconds, silent

    def stop(self) -> bytes:
        """The whole fake recording, as a WAV."""
        return voice.wav_of(tone_pcm(self._seconds, silent=self._silent))


class ToneMicrophone:
    """A microphone that always 'hears' the same tone (``fail``: raises that code instead)."""

    def __init__(self, seconds: float = 3.0, *, silent: bool = False, fail: str | None = None):
        self.seconds = seconds
        self.silent = silent
        self.fail = fail
        self.started = 0

    def start(self, max_seconds: float) -> _ToneRecording:
        """A recording of ``seconds`` (at most ``max_seconds``); MicrophoneError when ``fail``."""
        if self.fail is not None:
            raise MicrophoneError(f"fake microphone: {self.fail}", self.fail)
        self.started += 1
        return _ToneRecording(min(self.seconds, max_seconds), self.silent)


def tone_microphone(cfg: ToneSettings) -> ToneMicrophone:
    """The backend factory (kiosk.backends MICROPHONES)."""
    return ToneMicrophone(cfg.tone_seconds)
