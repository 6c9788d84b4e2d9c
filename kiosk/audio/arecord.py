"""The real microphone: ALSA's ``arecord`` (alsa-utils) reading a USB microphone.

``arecord`` writes raw S16_LE mono PCM at 8 kHz to its stdout, bounded by ``-d``; a reader thread
keeps it in memory (never a file), capped at the note's byte bound. Opening the device fails at
once when there is no microphone or another program holds it; that failure is read from
arecord's stderr and raised as a :class:`~kiosk.errors.MicrophoneError` naming which.
"""

from __future__ import annotations

import logging
import math
import shutil
import signal
import subprocess
import threading

from kiosk.backends import ArecordSettings
from kiosk.core import voice
from kiosk.errors import MicrophoneError

log = logging.getLogger(__name__)

OPEN_WAIT_S = 1.5
"""How long start() waits for the first audio or for arecord to fail opening the device."""

STOP_WAIT_S = 3.0
"""How long stop() lets arecord flush after SIGINT before killing it."""

_CHUNK = 1600  # 0.1 s of audio


def _failure(stderr: str) -> MicrophoneError:
    """arecord's complaint as the error the UI can name."""
    text = stderr.lower()
    if "busy" in text:
        return MicrophoneError("the microphone is in use by another program", "microphone_busy")
    if any(
        w in text for w in ("no such file", "no such device", "cannot find card", "unknown pcm")
    ):
        return MicrophoneError("no microphone is connected", "no_microphone")
    last = stderr.strip().splitlines()[-1:] or ["arecord ended"]
    return MicrophoneError(f"the microphone failed: {last[0][:200]}", "microphone_failed")


class _ArecordRecording:
    """One arecord process and the PCM read from it so far."""

    def __init__(self, proc: subprocess.Popen[bytes], max_bytes: int) -> None:
        self._proc = proc
        self._max = max_bytes
        self._pcm = bytearray()
        self._first = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="arecord-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            while chunk := stdout.read1(_CHUNK):  # type: ignore[attr-defined]
                with self._lock:
                    room = self._max - len(self._pcm)
                    self._pcm += chunk[: max(0, room)]
                self._first.set()
        finally:
            self._ended.set()
            self._first.set()

    def opened(self, wait_s: float) -> None:
        """Wait (bounded) until audio flows or arecord fails; raise its failure."""
        self._first.wait(wait_s)
        if self._ended.is_set() and not self._pcm:
            self._proc.wait(timeout=STOP_WAIT_S)
            stderr = self._stderr()
            if self._proc.returncode != 0 or not self._pcm:
                raise _failure(stderr)

    def _stderr(self) -> str:
        err = self._proc.stderr
        return err.read().decode("utf-8", "replace") if err is not None else ""

    def stop(self) -> bytes:
        """Stop arecord (SIGINT lets it flush), collect the PCM, wrap it as a WAV."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=STOP_WAIT_S)
        self._reader.join(timeout=STOP_WAIT_S)
        stderr = self._stderr()
        with self._lock:
            pcm = bytes(self._pcm)
            self._pcm = bytearray()  # the clear audio leaves this object
        # arecord exits 1 after SIGINT on some versions; only a run that gave nothing failed
        if not pcm and self._proc.returncode not in (0, -signal.SIGINT):
            raise _failure(stderr)
        return voice.wav_of(pcm)


class ArecordMicrophone:
    """``arecord -D <device>`` in the one note format (kiosk.core.voice)."""

    def __init__(self, device: str = "default", binary: str = "arecord") -> None:
        self._device = device
        self._binary = binary

    def start(self, max_seconds: float) -> _ArecordRecording:
        """Start arecord for at most ``max_seconds``; MicrophoneError when it cannot open."""
        found = shutil.which(self._binary)
        if found is None:
            raise MicrophoneError(f"{self._binary} is not installed (alsa-utils)", "no_microphone")
        seconds = max(1, min(math.ceil(max_seconds), voice.MAX_SECONDS))
        argv = [
            found, "-q", "-D", self._device, "-t", "raw", "-f", "S16_LE",
            "-r", str(voice.RATE_HZ), "-c", str(voice.CHANNELS), "-d", str(seconds), "-",
        ]  # fmt: skip
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as err:
            raise MicrophoneError(f"arecord could not start: {err}", "microphone_failed") from err
        limit = seconds * voice.RATE_HZ * voice.SAMPLE_BYTES * voice.CHANNELS
        recording = _ArecordRecording(proc, limit)
        try:
            recording.opened(OPEN_WAIT_S)
        except MicrophoneError:
            log.warning("microphone %s cannot record", self._device)
            raise
        return recording


def arecord_microphone(cfg: ArecordSettings) -> ArecordMicrophone:
    """The backend factory (kiosk.backends MICROPHONES)."""
    return ArecordMicrophone(cfg.device)
