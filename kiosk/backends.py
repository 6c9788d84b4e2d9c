"""The backend registries: every camera, face detector, pin factory and printer, declared once.

A row names a backend, says what it is, and points at its factory (``module:attribute``),
imported only when the backend is chosen, so reading the configuration never loads OpenCV,
gpiozero or a model runtime (Home Assistant's and Frigate's lazily loaded plugins do the same).
The configuration's choices (``kiosk.config``) and every factory lookup derive from these rows;
the fake of each kind is a row beside the real ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.errors import ConfigError
from kiosk.settings import LaxPath, Section, seconds, setting

AUTO = "auto"
"""The extra choice of a registry that can pick a backend by probing the machine."""


@dataclass(frozen=True)
class Backend:
    """One backend: its config name, a one-line description, and where its factory lives."""

    name: str
    doc: str
    target: str  # "package.module:attribute"
    fake: bool = False  # ships for machines without the hardware (tests, demos)
    settings: type[Section] | None = None  # the backend's own settings (in its config table)

    def load(self) -> Any:
        """The factory (imported now, on first use)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


class Registry:
    """The backends of one kind, in declaration order."""

    def __init__(self, what: str, setting: str, *rows: Backend, auto: str | None = None) -> None:
        self.what = what  # e.g. "camera backend", for error messages
        self.setting = setting  # the config setting that chooses one
        self.auto = auto  # what 'auto' picks (None: no 'auto' choice)
        self._rows = {r.name: r for r in rows}

    def __iter__(self) -> Iterator[Backend]:
        return iter(self._rows.values())

    def names(self) -> tuple[str, ...]:
        """The backend names."""
        return tuple(self._rows)

    def choices(self) -> tuple[str, ...]:
        """What the configuration accepts: 'auto' (if the kind has it) and every name."""
        return ((AUTO,) if self.auto is not None else ()) + self.names()

    def literal(self) -> Any:
        """``Literal[...]`` of :meth:`choices`, for a pydantic field."""
        return Literal.__getitem__(self.choices())

    def describe(self) -> str:
        """The config field's description: every choice and what it means."""
        parts = ([f"{AUTO}: {self.auto}"] if self.auto is not None else []) + [
            f"{r.name}: {r.doc}" for r in self
        ]
        return "; ".join(parts)

    def factory(self, name: str, error: type[Exception]) -> Any:
        """The factory of backend ``name``; ``error`` (the caller's own kind) when unknown."""
        if name not in self._rows:
            raise error(f"unknown {self.what} {name!r}; use one of {list(self.names())}")
        return self._rows[name].load()

    def get(self, name: str) -> Backend:
        """The row ``name``; a :class:`ConfigError` naming the choices when there is none."""
        try:
            return self._rows[name]
        except KeyError:
            allowed = ", ".join(self.choices())
            raise ConfigError(
                f"unknown {self.what} {name!r}",
                [f"{self.setting} = {name!r}: use one of {allowed}"],
            ) from None


class OpenCvSettings(Section):
    """What the V4L2 webcam backend reads (and 'auto', which probes /dev/video<index>)."""

    device_index: int = setting(0, "V4L2 index (/dev/videoN)", ge=0, le=63)


class ReplaySettings(Section):
    """What the replay backend reads."""

    replay_source: LaxPath | None = setting(
        None,
        "Replay backend: a folder of images or a video file. Empty: the demo faces beside the "
        "checkout",
    )


class ArecordSettings(Section):
    """What the ALSA microphone backend reads."""

    device: str = setting(
        "default",
        "ALSA capture device for arecord -D, e.g. default or plughw:CARD=Device",
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9_:,.=-]+$",
    )


class ToneSettings(Section):
    """What the fake microphone reads."""

    tone_seconds: float = seconds(3.0, "Tone backend: length of every fake recording", gt=0, le=120)


CAMERAS = Registry(
    "camera backend",
    "camera.backend",
    Backend(
        "picamera2", "the Pi camera (picamera2, from apt)", "kiosk.vision.camera:picamera2_camera"
    ),
    Backend(
        "opencv", "a V4L2 webcam /dev/video<device_index>", "kiosk.vision.camera:opencv_camera"
    ),
    Backend(
        "replay",
        "photos or a video played as a camera (replay_source)",
        "kiosk.vision.camera:replay_camera",
        fake=True,
        settings=ReplaySettings,
    ),
    auto="picamera2 if present, else a V4L2 webcam, else replay",
)

DETECTORS = Registry(
    "detector backend",
    "biometrics.detector",
    Backend(
        "litert",
        "BlazeFace on LiteRT, decoded in NumPy (the faster)",
        "kiosk.vision.detector:litert_detectors",
    ),
    Backend(
        "mediapipe",
        "the MediaPipe Tasks FaceDetector on the same model file",
        "kiosk.vision.detector:mediapipe_detectors",
    ),
)

PIN_FACTORIES = Registry(
    "pin factory",
    "gpio.pin_factory",
    Backend(
        "lgpio", "lgpio via /dev/gpiochipN (Pi 5 and earlier)", "firmware.factory:lgpio_factory"
    ),
    Backend(
        "mock", "gpiozero's MockFactory: simulated pins", "firmware.factory:mock_factory", True
    ),
    auto="lgpio on a Raspberry Pi, gpiozero's MockFactory elsewhere",
)

PRINTERS = Registry(
    "printer",
    "ui.printer_backend",
    Backend(
        "escpos",
        "an ESC/POS thermal printer device (ui.printer)",
        "kiosk.printer.escpos:EscPosPrinter",
    ),
    Backend(
        "file",
        "appends the ESC/POS bytes to the file ui.printer",
        "kiosk.printer.fake:FilePrinter",
        True,
    ),
)

MICROPHONES = Registry(
    "microphone backend",
    "microphone.backend",
    Backend(
        "arecord",
        "a USB microphone through ALSA's arecord (alsa-utils), 8 kHz mono",
        "kiosk.audio.arecord:arecord_microphone",
        settings=ArecordSettings,
    ),
    Backend(
        "tone",
        "a fake microphone: every note is a tone made at run time (tone_seconds)",
        "kiosk.audio.tone:tone_microphone",
        fake=True,
        settings=ToneSettings,
    ),
    Backend("none", "no microphone: notes are typed only", "kiosk.audio:no_microphone"),
    auto="arecord when ALSA lists a capture device, else the tone fake",
)
