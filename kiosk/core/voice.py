"""Spoken notes: the one audio format, its bounds, and the checks both ends apply.

A spoken note is 8 kHz, mono, 16-bit PCM in a WAV container (telephone-band speech: half the
bytes of 16 kHz over a weak link; a 60 s note and a 700 KiB evidence photo, base64'd twice by
the envelope, stay under the portal's 4 MiB envelope bound). The kiosk holds it in memory only
and seals it into the record; the portal's schemas bound the same size.
"""

from __future__ import annotations

import array
import base64
import io
import math
import sys
import wave
from dataclasses import dataclass
from typing import Any

from kiosk.errors import VoiceNoteError

RATE_HZ = 8000
CHANNELS = 1
SAMPLE_BYTES = 2  # S16_LE
MIME = "audio/wav"

MAX_SECONDS = 60
"""Longest spoken note, seconds (the recorder stops itself there)."""

MIN_SECONDS = 0.5
"""A shorter recording is treated as empty (a touch of Start then Stop)."""

HEADER_BYTES = 44
MAX_WAV_BYTES = HEADER_BYTES + RATE_HZ * CHANNELS * SAMPLE_BYTES * MAX_SECONDS
"""Largest WAV a note may be (the portal's schema bounds its base64 to match)."""

MAX_BASE64_CHARS = 4 * ((MAX_WAV_BYTES + 2) // 3)

VOICED_RMS = 300.0
"""20 ms frames louder than this (RMS of int16 samples, about -40 dBFS) count as sound."""

MIN_VOICED_S = 0.3
"""At least this much sound, seconds, or the recording is silence (no microphone signal)."""

_FRAME = RATE_HZ // 50  # 20 ms


@dataclass(frozen=True)
class VoiceNote:
    """A checked spoken note (memory only until sealed)."""

    wav: bytes
    seconds: float
    at_limit: bool  # the recorder stopped it at MAX_SECONDS (or the configured limit)


def wav_of(pcm: bytes) -> bytes:
    """The WAV container around raw S16_LE mono PCM at :data:`RATE_HZ` (built in memory)."""
    pcm = pcm[: len(pcm) - len(pcm) % SAMPLE_BYTES]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(CHANNELS)
        w.setsampwidth(SAMPLE_BYTES)
        w.setframerate(RATE_HZ)
        w.writeframes(pcm)
    return out.getvalue()


def pcm_of(wav: bytes) -> bytes:
    """The PCM frames of a WAV in the one format; VoiceNoteError('voice_bad') otherwise."""
    if len(wav) > MAX_WAV_BYTES + 1024:
        raise VoiceNoteError(f"a spoken note of {len(wav)} bytes is too long", "voice_too_long")
    try:
        with wave.open(io.BytesIO(wav), "rb") as w:
            shape = (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype())
            if shape != (CHANNELS, SAMPLE_BYTES, RATE_HZ, "NONE"):
                raise VoiceNoteError(
                    f"a spoken note must be 8 kHz mono S16, not {shape}", "voice_bad"
                )
            return w.readframes(w.getnframes())
    except (wave.Error, EOFError) as err:
        raise VoiceNoteError(f"a spoken note is not a WAV: {err}", "voice_bad") from err


def voiced_seconds(pcm: bytes) -> float:
    """Seconds of 20 ms frames louder than :data:`VOICED_RMS`."""
    samples = array.array("h", pcm[: len(pcm) - len(pcm) % SAMPLE_BYTES])
    if sys.byteorder == "big":
        samples.byteswap()  # the PCM is little-endian
    loud = 0
    for start in range(0, len(samples) - _FRAME + 1, _FRAME):
        frame = samples[start : start + _FRAME]
        if math.sqrt(math.fsum(x * x for x in frame) / _FRAME) > VOICED_RMS:
            loud += 1
    return loud * _FRAME / RATE_HZ


def check_note(wav: bytes, limit_s: float = MAX_SECONDS) -> VoiceNote:
    """The note checked: VoiceNoteError ``voice_empty`` (too short or silent),
    ``voice_too_long`` (over ``limit_s`` by more than a frame), ``voice_bad`` (wrong format)."""
    pcm = pcm_of(wav)
    seconds = len(pcm) / (RATE_HZ * SAMPLE_BYTES * CHANNELS)
    if seconds > min(limit_s, MAX_SECONDS) + 0.25:
        raise VoiceNoteError(f"a spoken note of {seconds:.1f} s is too long", "voice_too_long")
    if seconds < MIN_SECONDS or voiced_seconds(pcm) < MIN_VOICED_S:
        raise VoiceNoteError("nothing was heard in the recording", "voice_empty")
    return VoiceNote(wav, round(seconds, 2), seconds >= min(limit_s, MAX_SECONDS) - 0.5)


def sealed_form(note: VoiceNote | None) -> dict[str, Any] | None:
    """The note as it travels inside a sealed record (``voice_note`` in the schemas)."""
    if note is None:
        return None
    return {
        "mime": MIME,
        "seconds": note.seconds,
        "data": base64.b64encode(note.wav).decode("ascii"),
    }
