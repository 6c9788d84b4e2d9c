"""The backend registries: each backend is declared once and everything derives from the rows."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from kiosk.backends import AUTO, CAMERAS, DETECTORS, MICROPHONES, PIN_FACTORIES, PRINTERS, Registry
from kiosk.config import (
    BiometricsConfig,
    CameraConfig,
    GpioConfig,
    MicrophoneConfig,
    UiConfig,
    parse_config,
)
from kiosk.errors import ConfigError

CHOSEN_BY = [
    (CAMERAS, CameraConfig, "backend"),
    (DETECTORS, BiometricsConfig, "detector"),
    (PIN_FACTORIES, GpioConfig, "pin_factory"),
    (PRINTERS, UiConfig, "printer_backend"),
    (MICROPHONES, MicrophoneConfig, "backend"),
]


@pytest.mark.parametrize(("registry", "model", "field"), CHOSEN_BY)
def test_config_choices_are_the_registry_rows(registry: Registry, model: type, field: str) -> None:
    info = model.model_fields[field]  # type: ignore[attr-defined]
    assert typing.get_args(info.annotation) == registry.choices()
    assert all(r.name in info.description for r in registry)


@pytest.mark.parametrize("registry", [CAMERAS, DETECTORS, PIN_FACTORIES, PRINTERS, MICROPHONES])
def test_every_row_points_at_a_factory_and_each_kind_ships_a_fake(registry: Registry) -> None:
    for row in registry:
        assert callable(row.load()), row.target
    if registry is not DETECTORS:  # detectors run on real models here: no fake is needed
        assert any(r.fake for r in registry)


def test_an_unknown_choice_is_a_sentence_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"gpio": {"pin_factory": "rpigpio"}})
    assert "'auto', 'lgpio' or 'mock'" in err.value.problems[0]
    with pytest.raises(ConfigError, match="unknown camera backend 'usb'") as err:
        CAMERAS.get("usb")
    assert err.value.problems == [
        f"camera.backend = 'usb': use one of {AUTO}, picamera2, opencv, replay"
    ]


def test_reading_the_config_loads_no_backend() -> None:
    # a fresh interpreter: other tests here have loaded OpenCV and gpiozero already
    code = "import sys, kiosk.config; print(sorted({'cv2', 'gpiozero'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("registry", "table"), [(CAMERAS, CameraConfig), (MICROPHONES, MicrophoneConfig)]
)
def test_each_backend_brings_its_own_settings_into_its_config_table(
    registry: Registry, table: type
) -> None:
    own = {r.settings for r in registry if r.settings is not None}
    assert own and own <= set(table.__mro__)
    for model in own:
        assert set(model.model_fields) <= set(table.model_fields)  # type: ignore[attr-defined]
    cfg = parse_config({"camera": {"backend": "opencv", "device_index": 2}}).camera
    assert cfg.device_index == 2
    with pytest.raises(ConfigError) as err:
        parse_config({"camera": {"device_index": 64}})
    assert err.value.problems[0].startswith("camera.device_index = 64:")
