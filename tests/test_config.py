"""Configuration: defaults, TOML loading, technician-readable errors, `kiosk config check`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main
from kiosk.config import KioskConfig, load_config, parse_config
from kiosk.errors import ConfigError


def test_defaults_run_the_demo() -> None:
    cfg = KioskConfig()
    assert cfg.ui.host == "127.0.0.1" and cfg.ui.port == 8080
    assert cfg.device.village_code == "3510012001"
    assert cfg.biometrics.retry_budget == 3


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    f = tmp_path / "k.toml"
    f.write_text('[paths]\ndata_dir = "state"\nmodels_dir = "pack"\n')
    cfg = load_config(f)
    assert cfg.paths.data_dir == tmp_path / "state"
    assert cfg.paths.resolved_models_dir() == tmp_path / "pack"


def test_models_dir_falls_back_to_provisioned_then_shared(tmp_path: Path) -> None:
    cfg = parse_config({"paths": {"data_dir": str(tmp_path)}})
    assert cfg.paths.resolved_models_dir().parts[-2:] == ("shared", "models")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "SHA256SUMS").write_text("")
    assert cfg.paths.resolved_models_dir() == tmp_path / "models"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"device": {"id": "Kiosk 1"}}, "device.id = 'Kiosk 1': must be 3-40 characters"),
        (
            {"device": {"village_code": "35.10"}},
            "device.village_code = '35.10': must be a 10-digit",
        ),
        ({"ui": {"port": 80}}, "ui.port = 80: Input should be greater than or equal to 1024"),
        ({"ui": {"host": "0.0.0.0"}}, "ui.host = '0.0.0.0'"),
        ({"camera": {"backend": "gopro"}}, "camera.backend = 'gopro'"),
        ({"uplink": {"colour": "red"}}, "uplink.colour: unknown setting"),
        ({"biometrics": {"match_high": 0.1}}, "match_high >= match_medium >= match_low"),
        ({"gpio": {"pins": {"help_button": 40}}}, "must be a BCM GPIO number 2..27"),
        ({"gpio": {"pins": {"a": 5, "b": 5}}}, "two roles share one pin"),
        ({"uplink": {"backoff_initial_s": 10, "backoff_max_s": 1}}, "backoff_max_s"),
        ({"uplink": {"tls": {"ca_file": "x"}}}, "uplink.tls.cert_file: required setting"),
        (
            {"agents": {"session_idle_s": 3000, "session_max_s": 2000}},
            "session_idle_s must not exceed session_max_s",
        ),
        ({"agents": {"pin_free_failures": 0}}, "agents.pin_free_failures = 0"),
        ({"agents": {"roster_cap": 31}}, "agents.roster_cap = 31: Input should be less than"),
        ({"agents": {"roster_cap": "10"}}, "agents.roster_cap = '10'"),
        ({"agents": {"upkeep_after_days": 0}}, "agents.upkeep_after_days = 0"),
    ],
)
def test_bad_values_get_precise_messages(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    assert any(expected in p for p in exc.value.problems), exc.value.problems


def test_config_check_reports_every_problem_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[device]\nid = "X"\nvillage_code = "1"\n[ui]\nport = 1\n')
    assert main(["config", "check", str(f)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    assert "device.id" in err and "device.village_code" in err and "ui.port" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'[device\nid = "x"', "TOML syntax error"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, expected: str) -> None:
    f = tmp_path / "c.toml"
    f.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert expected in " ".join(exc.value.problems)


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.toml")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ok.toml"
    f.write_text('[device]\nid = "kiosk-3510012001-01"\nvillage_code = "35.10.01.2001"\n')
    assert main(["config", "check", str(f)]) == 0
    assert "OK" in capsys.readouterr().out


def test_configuration_reference_doc_is_current() -> None:
    from kiosk.config import REPO_ROOT, reference_markdown

    doc = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == reference_markdown(), "run: kiosk config reference > docs/configuration.md"


def test_example_config_is_valid() -> None:
    from kiosk.config import REPO_ROOT

    cfg = load_config(REPO_ROOT / "kiosk.example.toml")
    assert cfg.device.village_code == "3510012001"


@pytest.mark.parametrize(
    ("section", "setting", "value", "hint"),
    [
        ("uplink", "enabled", "yes", "write true or false, without quotes"),
        ("uplink", "ack_timeout_s", "60", "write a number without quotes"),
        ("uplink", "port", "1883", "write a whole number without quotes"),
        ("uplink", "protocol", 5, "'5' or '3.1.1'"),
    ],
)
def test_scalar_settings_are_strict_and_say_how_to_write_them(
    section: str, setting: str, value: object, hint: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({section: {setting: value}})
    (problem,) = err.value.problems
    assert problem.startswith(f"{section}.{setting} = {value!r}: ")
    assert hint in problem


def test_paths_are_still_written_as_text() -> None:
    cfg = parse_config({"paths": {"data_dir": "/data/kiosk"}, "uplink": {"ack_timeout_s": 60}})
    assert cfg.paths.data_dir == Path("/data/kiosk") and cfg.uplink.ack_timeout_s == 60.0


def test_every_path_setting_accepts_text() -> None:
    from pydantic import BaseModel

    from kiosk.config import KioskConfig

    for section, field in KioskConfig.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, sub in model.model_fields.items():
            if "Path" not in str(sub.annotation):
                continue
            try:
                parse_config({section: {name: "/abs/path"}})
            except ConfigError as err:
                assert not any(
                    "valid path" in p or "instance of Path" in p for p in err.problems
                ), f"[{section}] {name} refuses a TOML string: use LaxPath"


@pytest.mark.parametrize(
    "agents",
    [
        {"office_open": "15:00", "office_close": "08:00"},
        {"office_open": "8:00"},
        {"office_close": "25:00"},
        {"office_days": []},
        {"office_days": ["monday"]},
    ],
)
def test_office_hours_are_checked(agents: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_config({"agents": agents})


def test_office_hours_and_free_space_defaults() -> None:
    cfg = parse_config({})
    assert cfg.agents.office_days == ["mon", "tue", "wed", "thu", "fri"]
    assert (cfg.agents.office_open, cfg.agents.office_close) == ("08:00", "15:00")
    assert cfg.paths.min_free_mib == 50
    with pytest.raises(ConfigError):
        parse_config({"paths": {"min_free_mib": 0}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"biometrics": {"match_low": 0.51}}, "match_high >= match_medium >= match_low"),
        ({"biometrics": {"liveness_spoof": 0.96}}, "liveness_spoof must not exceed liveness_live"),
        ({"biometrics": {"liveness_passive_only": 0.9}}, "must not be below liveness_live"),
        ({"biometrics": {"decision_timeout_s": 10}}, "decision_timeout_s must be at least"),
        ({"agents": {"office_open": "15:00"}}, "office_close must be later than office_open"),
        ({"agents": {"pin_max_delay_s": 10}}, "pin_max_delay_s must be at least"),
    ],
)
def test_each_ordering_between_settings_is_a_sentence(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert len(err.value.problems) == 1 and message in err.value.problems[0]


def test_every_setting_is_described_and_durations_say_seconds() -> None:
    from pydantic import BaseModel

    for section, field in KioskConfig.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, sub in model.model_fields.items():
            assert sub.description, f"{section}.{name} has no description"
            if name.endswith("_s"):
                assert sub.description.endswith(", seconds"), f"{section}.{name}: {sub.description}"
            if name.endswith("_days") and sub.annotation in (int, float):
                assert sub.description.endswith(", days"), f"{section}.{name}: {sub.description}"


def test_mutable_defaults_are_not_shared() -> None:
    a, b = KioskConfig(), KioskConfig()
    assert a.gpio.pins == {} and a.gpio.pins is not b.gpio.pins
    assert a.agents.office_days is not b.agents.office_days
