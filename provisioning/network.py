"""Step 3, network: the broker endpoint and TLS settings in ``kiosk.toml``, and a Wi-Fi profile
for NetworkManager (a keyfile ``.nmconnection``, mode 0600, written atomically)."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

from .context import Context
from .errors import StepError
from .fsutil import write_text_atomic
from .layout import Layout
from .tomlfile import load_kiosk_config, update_config

WIFI_CONNECTION_ID = "kiosk-wifi"
CONNECT_TIMEOUT_S = 5.0


def wifi_keyfile(ssid: str, psk: str | None) -> str:
    """The NetworkManager keyfile text for a WPA2-PSK (or open) Wi-Fi network."""
    raw = ssid.encode("utf-8")
    if not 1 <= len(raw) <= 32 or any(ord(c) < 32 for c in ssid):
        raise StepError(
            "wifi_ssid",
            "the Wi-Fi name (SSID) must be 1-32 bytes without control characters",
            "type the network name exactly as the phone or router shows it",
        )
    if psk is not None and not (
        (8 <= len(psk) <= 63 and psk.isascii() and psk.isprintable())
        or (len(psk) == 64 and all(c in "0123456789abcdefABCDEF" for c in psk))
    ):
        raise StepError(
            "wifi_psk",
            "the Wi-Fi password must be 8-63 printable ASCII characters (or 64 hex digits)",
            "check the password on the router's label and type it again",
        )
    conn_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"kiosk-wifi:{ssid}")
    lines = [
        "[connection]",
        f"id={WIFI_CONNECTION_ID}",
        f"uuid={conn_uuid}",
        "type=wifi",
        "autoconnect=true",
        "",
        "[wifi]",
        "mode=infrastructure",
        f"ssid={ssid}",
        "",
    ]
    if psk is not None:
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={psk}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "method=auto", ""]
    return "\n".join(lines)


def write_wifi(nm_dir: Path, ssid: str, psk: str | None) -> Path:
    """Write the Wi-Fi profile into ``nm_dir`` (0600); returns its path."""
    path = nm_dir / f"{WIFI_CONNECTION_ID}.nmconnection"
    write_text_atomic(path, wifi_keyfile(ssid, psk), mode=0o600)
    return path


def _wifi(nm_dir: Path, ssid: str, inputs: dict[str, Any]) -> Path:
    """Write the profile; without a password keep an existing one for the same network."""
    path = nm_dir / f"{WIFI_CONNECTION_ID}.nmconnection"
    psk = inputs.get("wifi_psk")
    if psk is None and not inputs.get("wifi_open"):
        if path.is_file() and f"\nssid={ssid}\n" in path.read_text(encoding="utf-8"):
            return path  # a re-run: the password is deliberately not remembered
        raise StepError(
            "wifi_psk",
            f"no password given for Wi-Fi network {ssid!r}",
            "pass --wifi-psk (or --wifi-open for a network without a password)",
        )
    return write_wifi(nm_dir, ssid, None if inputs.get("wifi_open") else str(psk))


def check_reachable(host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Open and close a TCP connection to the broker; a StepError says what failed."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except socket.gaierror as err:
        raise StepError(
            "broker_unreachable",
            f"the broker host name {host!r} cannot be resolved ({err.strerror})",
            "check the spelling of --broker-host and that the network (Wi-Fi or cable) is up; "
            "or use --offline to configure now and test later with 'kiosk-provision selftest'",
        ) from err
    except OSError as err:
        raise StepError(
            "broker_unreachable",
            f"cannot reach the broker at {host}:{port} ({err.strerror or err})",
            "check the network (Wi-Fi or cable), the host and port, and any firewall; "
            "or use --offline to configure now and test later with 'kiosk-provision selftest'",
        ) from err


def uplink_updates(layout: Layout, inputs: dict[str, Any]) -> dict[str, Any]:
    """The [uplink] settings for these inputs (TLS files from the identity step)."""
    host = str(inputs.get("broker_host") or "").strip()
    if not host:
        raise StepError(
            "broker_host",
            "no broker host given",
            "pass --broker-host, e.g. mqtt.perlinsos.example.go.id",
        )
    tls = bool(inputs.get("tls", True))
    port = int(inputs.get("broker_port") or (8883 if tls else 1883))
    uplink: dict[str, Any] = {"enabled": True, "host": host, "port": port}
    if inputs.get("topic_prefix"):
        uplink["topic_prefix"] = str(inputs["topic_prefix"])
    if inputs.get("mqtt_protocol"):
        uplink["protocol"] = str(inputs["mqtt_protocol"])
    if layout.portal_key.is_file():
        uplink["portal_public_key"] = str(layout.portal_key)
    if tls:
        missing = [p for p in (layout.ca, layout.cert, layout.tls_key) if not p.is_file()]
        if missing:
            raise StepError(
                "tls_files_missing",
                "TLS is on but the device certificate is not installed yet",
                "finish the identity step first (kiosk-provision identity ...)",
            )
        uplink["tls"] = {
            "ca_file": str(layout.ca),
            "cert_file": str(layout.cert),
            "key_file": str(layout.tls_key),
        }
    else:
        uplink["tls"] = None
    return uplink


def run_network(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """Write the broker settings (after an optional reachability check) and the Wi-Fi profile."""
    uplink = uplink_updates(ctx.layout, inputs)
    wifi_path = None
    if inputs.get("wifi_ssid"):
        wifi_path = _wifi(ctx.nm_dir, str(inputs["wifi_ssid"]), inputs)
    if not inputs.get("offline"):
        check_reachable(uplink["host"], uplink["port"])
    update_config(ctx.layout.config, {"uplink": uplink})
    return {
        "broker": f"{uplink['host']}:{uplink['port']}",
        "tls": "tls" in uplink and uplink["tls"] is not None,
        "wifi_profile": str(wifi_path) if wifi_path else None,
        "reachability_checked": not inputs.get("offline"),
    }


def network_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when the config names this broker (and the Wi-Fi profile exists if one was asked)."""
    if not ctx.layout.config.is_file() or not inputs.get("broker_host"):
        return False
    up = load_kiosk_config(ctx.layout.config).uplink
    if up.host != str(inputs["broker_host"]).strip():
        return False
    if bool(inputs.get("tls", True)) != (up.tls is not None):
        return False
    return (
        not inputs.get("wifi_ssid") or (ctx.nm_dir / f"{WIFI_CONNECTION_ID}.nmconnection").is_file()
    )
