"""The demo set-up behind ``scripts/dev run``: a local broker, the reference portal, the kiosk.

    python -m portal.demo [--no-portal] [kiosk options, e.g. --config FILE]

With the demo defaults (no portal key, plain MQTT on 127.0.0.1) it starts Debian's
``mosquitto`` on the configured loopback port when nothing listens there yet, then the reference
portal receiver with the demo portal key that the kiosk seals its records to, and finally
``kiosk run``. Registrations then travel the real path (outbox -> MQTT -> portal -> ack) on
one machine. Everything stays on loopback; the helpers stop when the kiosk stops.
Not installed on kiosks (``portal/`` is the reference receiver, not product code).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from kiosk.config import KioskConfig, load_config
from kiosk.crypto.demo import DEMO_PORTAL_DIR, demo_portal_key
from kiosk.crypto.keys import load_or_create_device_key, public_pem

log = logging.getLogger("portal.demo")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _start_broker(cfg: KioskConfig, folder: Path) -> subprocess.Popen[bytes] | None:
    host, port = cfg.uplink.host, cfg.uplink.port
    if _listening(host, port):
        log.info("a broker already listens on %s:%d: using it", host, port)
        return None
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        log.warning("mosquitto is not installed: records will wait in the outbox")
        return None
    store = folder / "mosquitto"
    store.mkdir(parents=True, exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {store}/\nlog_dest stderr\nlog_type error\n"
    )
    return subprocess.Popen([binary, "-c", str(conf)])


def _start_portal(cfg: KioskConfig, folder: Path) -> subprocess.Popen[bytes]:
    devices = folder / "devices"
    devices.mkdir(parents=True, exist_ok=True)
    device_key = load_or_create_device_key(cfg.paths.data_dir)
    (devices / f"{cfg.device.id}.pem").write_bytes(public_pem(device_key))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.receiver",
            "--broker",
            f"{cfg.uplink.host}:{cfg.uplink.port}",
            "--db",
            str(folder / "portal.sqlite3"),
            "--private-key",
            str(folder / "portal_x25519.pem"),
            "--signing-key",
            str(folder / "portal_ed25519.pem"),
            "--protocol",
            cfg.uplink.protocol,
            "--device-keys",
            str(devices),
            "--prefix",
            cfg.uplink.topic_prefix,
        ]
    )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start broker and portal (demo only), then the kiosk; stop them when it stops."""
    parser = argparse.ArgumentParser(
        prog="scripts/dev run",
        add_help=False,
        description="Serve the kiosk on http://127.0.0.1:8080 with the demo defaults: a local "
        "mosquitto and the reference portal receiver beside it, so a registration really "
        "travels outbox -> MQTT -> portal -> ack. Demo agents and PINs: README.md.",
        epilog="Other options are passed to 'kiosk run' (see 'kiosk --help').",
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help; start nothing")
    parser.add_argument(
        "--no-portal", action="store_true", help="the kiosk alone: no local broker, no portal"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="kiosk TOML config (default: demo defaults)"
    )
    ours, rest = parser.parse_known_args(argv)
    if ours.help:
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    kiosk_cmd = [sys.executable, "-m", "kiosk"]
    if ours.config is not None:
        kiosk_cmd += ["--config", str(ours.config)]
    kiosk_cmd += [*rest, "run"]
    cfg = load_config(ours.config)
    helpers: list[subprocess.Popen[bytes]] = []
    demo = (
        not ours.no_portal
        and cfg.uplink.enabled
        and cfg.uplink.portal_public_key is None
        and cfg.uplink.tls is None
        and cfg.uplink.host in LOOPBACK
    )
    if demo:
        cfg.paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        demo_portal_key(cfg)  # the same key pair the kiosk will use
        folder = cfg.paths.data_dir / DEMO_PORTAL_DIR
        broker = _start_broker(cfg, folder)
        if broker is not None:
            helpers.append(broker)
        helpers.append(_start_portal(cfg, folder))
        log.info("demo portal receiving on %s:%d", cfg.uplink.host, cfg.uplink.port)
    signal.signal(signal.SIGTERM, _interrupt)
    kiosk = subprocess.Popen(kiosk_cmd)
    try:
        return kiosk.wait()
    except KeyboardInterrupt:
        kiosk.send_signal(signal.SIGINT)  # let the kiosk stop cleanly
        try:
            kiosk.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kiosk.kill()
        return 130
    finally:
        for proc in reversed(helpers):
            proc.terminate()
        for proc in helpers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    raise SystemExit(main())
