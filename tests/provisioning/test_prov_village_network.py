"""Steps 2 and 3: village binding and network settings (config + NetworkManager keyfile)."""

from __future__ import annotations

import socket
import stat
import tomllib

import pytest

from kiosk.config import load_config
from provisioning.context import Context
from provisioning.network import wifi_keyfile
from provisioning.steps import run_step
from provisioning.tomlfile import load_kiosk_config, render
from tests.provisioning.helpers import VILLAGE


def test_village_binding_writes_the_config_with_region_names(ctx: Context) -> None:
    out = run_step(
        ctx, "village", {"village_code": VILLAGE, "name": "Kantor Desa X", "location": "Ruang 1"}
    )
    assert out.status == "done", out.error
    assert out.summary["village_code"] == "3510012001"
    assert out.summary["regency"]  # the table names the regency
    cfg = load_config(ctx.layout.config)  # the kiosk itself can load what was written
    assert cfg.device.village_code == "3510012001"
    assert cfg.device.name == "Kantor Desa X"
    assert run_step(ctx, "village", {}).status == "skipped"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("35.10.01", "not a 10-digit"),
        ("3510O12001", "not a 10-digit"),
        ("99.10.01.2001", "province part (99)"),
        ("35.99.01.2001", "regency part (3599)"),
    ],
)
def test_bad_village_code_is_refused_with_the_reason(ctx: Context, code: str, words: str) -> None:
    out = run_step(ctx, "village", {"village_code": code, "name": "Kantor Desa X"})
    assert out.status == "failed" and out.error is not None
    assert out.error.code == "village_code"
    assert words in out.error.problem
    assert "10-digit" in out.error.fix
    assert not ctx.layout.config.exists()  # nothing half-applied


def test_missing_kiosk_name_is_refused(ctx: Context) -> None:
    out = run_step(ctx, "village", {"village_code": VILLAGE, "name": "  "})
    assert out.error is not None and out.error.code == "kiosk_name"


def _listening_port() -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_network_writes_broker_settings_and_a_private_wifi_profile(ctx: Context) -> None:
    server, port = _listening_port()
    with server:
        out = run_step(
            ctx,
            "network",
            {
                "broker_host": "127.0.0.1",
                "broker_port": port,
                "tls": False,
                "wifi_ssid": "Balai Desa",
                "wifi_psk": "rahasia-desa-123",
            },
        )
    assert out.status == "done", out.error
    up = load_kiosk_config(ctx.layout.config).uplink
    assert (up.host, up.port, up.tls) == ("127.0.0.1", port, None)
    profile = ctx.nm_dir / "kiosk-wifi.nmconnection"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    text = profile.read_text()
    assert "ssid=Balai Desa" in text and "psk=rahasia-desa-123" in text
    assert "key-mgmt=wpa-psk" in text
    state = ctx.layout.state.read_text()
    assert "rahasia" not in state  # the password is never kept in the state file


def test_unreachable_broker_is_a_clear_error_and_config_unchanged(ctx: Context) -> None:
    server, port = _listening_port()
    server.close()  # nothing listens there now
    out = run_step(ctx, "network", {"broker_host": "127.0.0.1", "broker_port": port, "tls": False})
    assert out.status == "failed" and out.error is not None
    assert out.error.code == "broker_unreachable"
    assert "--offline" in out.error.fix
    assert not ctx.layout.config.exists()


def test_offline_network_setup_skips_the_reachability_check(ctx: Context) -> None:
    out = run_step(ctx, "network", {"broker_host": "mqtt.invalid", "tls": False, "offline": True})
    assert out.status == "done"
    assert load_kiosk_config(ctx.layout.config).uplink.port == 1883


def test_tls_needs_the_identity_first(ctx: Context) -> None:
    out = run_step(ctx, "network", {"broker_host": "127.0.0.1", "offline": True})
    assert out.error is not None and out.error.code == "tls_files_missing"


@pytest.mark.parametrize(
    ("ssid", "psk", "code"),
    [("", "password1", "wifi_ssid"), ("x" * 33, "password1", "wifi_ssid"),
     ("Desa", "short", "wifi_psk"), ("Desa", "pässwörd123", "wifi_psk")],
)  # fmt: skip
def test_bad_wifi_settings_are_refused(ssid: str, psk: str, code: str) -> None:
    from provisioning.errors import StepError

    with pytest.raises(StepError) as info:
        wifi_keyfile(ssid, psk)
    assert info.value.code == code


def test_open_wifi_has_no_security_section() -> None:
    assert "[wifi-security]" not in wifi_keyfile("Desa Terbuka", None)


def test_toml_render_round_trips_nested_tables() -> None:
    data = {
        "device": {"id": "k-1", "name": 'Desa "Maju"\n'},
        "uplink": {"port": 8883, "tls": {"ca_file": "/a b/ca.pem"}},
        "gpio": {"absent": ["buzzer"], "pins": {"help_button": 17}},
    }
    assert tomllib.loads(render(data)) == data


def test_wifi_rerun_without_password_keeps_the_profile(ctx: Context) -> None:
    wifi = {"broker_host": "127.0.0.1", "tls": False, "offline": True, "wifi_ssid": "Desa"}
    out = run_step(ctx, "network", wifi)
    assert out.error is not None and out.error.code == "wifi_psk"  # first time: password needed
    assert run_step(ctx, "network", {**wifi, "wifi_psk": "rahasia-123"}).status == "done"
    # the password is not remembered; a forced re-run must not turn the profile into an open one
    assert run_step(ctx, "network", {}, force=True).status == "done"
    assert "psk=rahasia-123" in (ctx.nm_dir / "kiosk-wifi.nmconnection").read_text()
    assert run_step(ctx, "network", {"wifi_ssid": "Lain", "wifi_open": True}).status == "done"
    assert "[wifi-security]" not in (ctx.nm_dir / "kiosk-wifi.nmconnection").read_text()


def test_changed_input_redoes_a_finished_step(ctx: Context) -> None:
    base = {"village_code": VILLAGE, "name": "Kantor Desa X"}
    assert run_step(ctx, "village", base).status == "done"
    assert run_step(ctx, "village", base).status == "skipped"
    assert run_step(ctx, "village", {"name": "Kantor Desa Y"}).status == "done"
    assert load_kiosk_config(ctx.layout.config).device.name == "Kantor Desa Y"
