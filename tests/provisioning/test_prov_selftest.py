"""Step 6: the self-test table, the technician's confirmations, and ``selftest --json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from provisioning.cli import main
from provisioning.context import Context
from provisioning.selftest import Probes, run_selftest
from provisioning.steps import run_step
from provisioning.tomlfile import update_config


@pytest.fixture
def offline_kiosk(ctx: Context, pack_src: Path) -> Context:
    """Models installed; uplink off; mock GPIO."""
    assert run_step(ctx, "models", {"source": pack_src}).status == "done"
    update_config(
        ctx.layout.config,
        {"uplink": {"enabled": False}, "gpio": {"pin_factory": "mock"},
         "camera": {"backend": "replay"}},
    )  # fmt: skip
    return ctx


def _by_name(result: dict[str, object]) -> dict[str, str]:
    checks = result["checks"]
    assert isinstance(checks, list)
    return {c["name"]: c["status"] for c in checks}


def test_selftest_json_ends_with_one_object_with_a_verdict_per_check(
    offline_kiosk: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["--yes", "selftest", "--json"], context=offline_kiosk)
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    statuses = _by_name(result)
    assert set(statuses.values()) <= {"pass", "fail", "skip", "unconfirmed"}
    for name in ("camera", "model_detector", "model_embedder", "model_mesh", "model_fas_v2",
                 "disk", "clock"):  # fmt: skip
        assert statuses[name] == "pass", result
    assert statuses["broker"] == "skip"
    assert statuses["camera_face"] == "pass"  # the replay camera shows a face
    # nobody could look at the lights or press the button: unconfirmed, never pass
    assert statuses["gpio_status_led"] == "unconfirmed"
    assert statuses["gpio_help_button"] == "unconfirmed"
    assert result["passed"] is False and rc == 1
    assert set(result["unconfirmed"]) >= {"gpio_status_led", "gpio_help_button"}
    assert json.loads(offline_kiosk.layout.selftest.read_text()) == result


def test_technician_confirms_lights_and_presses_the_button(offline_kiosk: Context) -> None:
    factory = MockFactory()
    asked: list[str] = []

    def technician(question: str) -> bool:
        asked.append(question)
        if "help button" in question:  # a press and release, before the answer
            factory.pin(17).drive_low()  # the button pulls the pin to ground
            factory.pin(17).drive_high()
        if "presence" in question:
            factory.pin(27).drive_high()
        return True

    offline_kiosk.confirm = technician
    probes = Probes(clock_synchronised=lambda: True, pin_factory=factory, min_free_bytes=1)
    result = run_selftest(offline_kiosk, probes, only=("gpio",))
    statuses = _by_name(result)
    assert all(s == "pass" for s in statuses.values()), result
    assert {"gpio_status_led", "gpio_fault_led", "gpio_buzzer", "gpio_face_light",
            "gpio_help_button", "gpio_presence"} == set(statuses)  # fmt: skip
    assert any("GREEN" in q for q in asked)
    assert result["passed"] is True


def test_button_not_seen_and_light_not_seen_are_failures(offline_kiosk: Context) -> None:
    factory = MockFactory()
    offline_kiosk.confirm = lambda q: "RED" not in q  # red light broken; button never reaches pin
    probes = Probes(clock_synchronised=lambda: True, pin_factory=factory, input_wait_s=0.2)
    statuses = _by_name(run_selftest(offline_kiosk, probes, only=("gpio",)))
    assert statuses["gpio_fault_led"] == "fail"
    assert statuses["gpio_status_led"] == "pass"
    assert statuses["gpio_help_button"] == "fail"


def test_broken_model_pack_clock_and_disk_fail_with_fixes(offline_kiosk: Context) -> None:
    shutil.rmtree(offline_kiosk.layout.models)
    probes = Probes(clock_synchronised=lambda: False, min_free_bytes=1 << 60)
    result = run_selftest(offline_kiosk, probes, only=("models", "clock", "disk"))
    statuses = _by_name(result)
    assert statuses == {"models": "fail", "clock": "fail", "disk": "fail"}
    assert all(c["fix"] for c in result["checks"])


def test_unreachable_broker_fails_fast(offline_kiosk: Context) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    update_config(offline_kiosk.layout.config,
                  {"uplink": {"enabled": True, "host": "127.0.0.1", "port": port}})  # fmt: skip
    result = run_selftest(offline_kiosk, Probes(), only=("broker",))
    (check,) = result["checks"]
    assert check["status"] == "fail"
    assert "cannot reach the broker" in check["detail"]


def test_selftest_step_fails_when_a_check_fails_and_names_it(offline_kiosk: Context) -> None:
    offline_kiosk.probes = Probes(clock_synchronised=lambda: False, min_free_bytes=1)
    out = run_step(offline_kiosk, "selftest", {})
    assert out.status == "failed" and out.error is not None
    assert out.error.code == "selftest_failed"
    assert "clock" in out.error.problem
