"""The PCM WAV bytes the kiosk serves: espeak-ng's header mended, a clip's length, silence."""

from __future__ import annotations

import struct


def fix_wav_sizes(audio: bytes) -> bytes:
    """espeak-ng writes a streaming header (sizes 0x7fffffff) to stdout; put the real sizes
    in, so the browser and :func:`wav_seconds` know the clip's length."""
    if len(audio) < 44 or audio[36:40] != b"data":
        return audio
    size = len(audio)
    return (
        audio[:4]
        + (size - 8).to_bytes(4, "little")
        + audio[8:40]
        + (size - 44).to_bytes(4, "little")
        + audio[44:]
    )


def wav_seconds(audio: bytes) -> float | None:
    """Length in seconds of a PCM WAV with a 44-byte header, or None when it is not one."""
    if len(audio) < 44 or audio[:4] != b"RIFF" or audio[36:40] != b"data":
        return None
    byte_rate = int.from_bytes(audio[28:32], "little")
    return (len(audio) - 44) / byte_rate if byte_rate > 0 else None


def silence(seconds: float, rate: int = 8000) -> bytes:
    """A mono 8-bit PCM WAV of ``seconds`` of silence (44-byte header, real sizes)."""
    frames = max(0, round(seconds * rate))
    header = b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + fmt + b"data" + struct.pack("<I", frames) + b"\x80" * frames
