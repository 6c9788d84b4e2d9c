"""End to end: a fresh data directory provisioned against a real broker and the reference
portal receiver, with an interruption (a damaged model stick) resumed in the middle."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.crypto.keys import load_device_public_key, load_signing_private_key
from kiosk.vision.embedder import template_to_bytes
from portal.devkeys import DevCA
from provisioning.agents import FORMAT, sign_agent_file
from provisioning.cli import main
from provisioning.context import Context
from provisioning.report import verify_signed_report
from tests.fixtures.mqtt import Broker, Pki, Portal
from tests.provisioning.helpers import DEVICE_ID, VILLAGE, PortalFiles, sign_csr

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def _toml(plan: dict[str, dict[str, object]]) -> str:
    from provisioning.tomlfile import render

    return render(plan)


def _agents_file(key: Ed25519PrivateKey, path: Path) -> Path:
    v = np.random.default_rng(3).normal(size=128).astype(np.float32)
    template = base64.b64encode(template_to_bytes(v / np.linalg.norm(v))).decode()
    body = {
        "format": FORMAT,
        "device_id": DEVICE_ID,
        "issued_at": 1_780_000_000,
        "agents": [{"id": "AG-3510-001", "role": "pkh", "name": "Bu Sri", "pin": "582947",
                    "template": template}],
    }  # fmt: skip
    path.write_text(json.dumps(sign_agent_file(body, key)))
    return path


def test_fresh_kiosk_provisioned_end_to_end_with_resume(
    ctx: Context,
    tmp_path: Path,
    pki: Pki,
    broker: Broker,
    portal: Portal,
    portal_files: PortalFiles,
    pack_src: Path,
    said: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One portal signing key: it signs the agent file and every reply the self-test waits for.
    portal_signing = load_signing_private_key(pki.signing_private)
    plan_path = tmp_path / "plan.toml"
    plan: dict[str, dict[str, object]] = {"identity": {"device_id": DEVICE_ID}}
    plan_path.write_text(_toml(plan))

    # 1. keys and CSR are made on the device; the run waits for the certificate
    assert main(["--yes", "run", "--plan", str(plan_path)], context=ctx) == 3
    assert "device.csr" in "\n".join(said)
    device_key = ctx.layout.device_key.read_bytes()

    # the portal signs the CSR with its CA and enrols the device's public signing key
    cert = sign_csr(pki.ca, ctx.layout.csr, tmp_path / "device.crt")
    shutil.copyfile(ctx.layout.prov / "device_ed25519.pub.pem",
                    portal.keys_dir / f"{DEVICE_ID}.pem")  # fmt: skip

    # 2. the whole plan, but the model stick is damaged: the run stops at 'models'
    bad_pack = tmp_path / "bad-usb"
    shutil.copytree(pack_src, bad_pack)
    (bad_pack / "mobilefacenet.tflite").write_bytes(b"truncated")
    plan = {
        "identity": {"device_id": DEVICE_ID, "cert": str(cert), "ca": str(pki.ca.ca_file),
                     "portal_key": str(pki.portal_public),
                     "portal_signing_key": str(pki.signing_public)},
        "village": {"village_code": VILLAGE, "name": "Kantor Desa Uji", "location": "Ruang 1"},
        "network": {"broker_host": "127.0.0.1", "broker_port": broker.port, "tls": True},
        "models": {"source": str(bad_pack)},
        "agents": {"file": str(_agents_file(portal_signing, tmp_path / "agents.json"))},
        "report": {"send": True, "send_timeout_s": 30},
    }  # fmt: skip
    plan_path.write_text(_toml(plan))
    said.clear()
    assert main(["--yes", "run", "--plan", str(plan_path)], context=ctx) == 1
    text = "\n".join(said)
    assert "mobilefacenet.tflite: checksum does not match" in text
    assert "How to fix" in text
    state = json.loads(ctx.layout.state.read_text())
    assert state["steps"]["models"]["code"] == "checksum"
    assert not ctx.layout.models.exists()

    # 3. with a good stick the same command resumes at 'models' and finishes
    plan["models"]["source"] = str(pack_src)
    plan_path.write_text(_toml(plan))
    said.clear()
    assert main(["--yes", "run", "--plan", str(plan_path)], context=ctx) == 0, said
    text = "\n".join(said)
    for step in ("identity", "village", "network"):
        assert f"[OK  ] {step} (already done)" in text
    for step in ("models", "agents", "selftest", "report"):
        assert f"[OK  ] {step}\n" in text + "\n"
    assert ctx.layout.device_key.read_bytes() == device_key  # identity was not redone

    # the self-test's broker round trip got the portal's application ack
    selftest = json.loads(ctx.layout.selftest.read_text())
    checks = {c["name"]: c for c in selftest["checks"]}
    assert checks["broker"]["status"] == "pass", checks["broker"]
    assert checks["camera"]["status"] == "pass"
    assert checks["gpio_status_led"]["status"] == "unconfirmed"

    # the signed report reached the portal, and is kept locally
    signed = json.loads(ctx.layout.report_json.read_text())
    assert signed["record_id"] in portal.record_ids(DEVICE_ID)
    assert portal.rx is not None
    stored = portal.rx.store.get(DEVICE_ID, signed["record_id"])
    assert stored is not None
    record = stored.get("record", stored)
    pub = load_device_public_key(portal.keys_dir / f"{DEVICE_ID}.pem")
    report = verify_signed_report({"report": record["report"], "signature": record["signature"]},
                                  pub)  # fmt: skip
    assert report["village_code"] == "3510012001"
    assert report["selftest"]["checks"]

    # 4. 'selftest --json' on the provisioned kiosk ends with one JSON object
    capsys.readouterr()
    main(["--yes", "selftest", "--json"], context=ctx)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    assert {c["name"]: c["status"] for c in result["checks"]}["broker"] == "pass"

    # 5. status shows every step done
    said.clear()
    assert main(["status"], context=ctx) == 0
    assert all(" done " in line for line in said if not line.startswith(" "))


def _identity_and_network(ctx: Context, tmp_path: Path, ca: DevCA, ca_file: Path,
                          pki: Pki, broker: Broker) -> None:  # fmt: skip
    from provisioning.steps import run_step

    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    cert = sign_csr(ca, ctx.layout.csr, tmp_path / "device.crt")
    ident = {"cert": cert, "ca": ca_file, "portal_key": pki.portal_public}
    assert run_step(ctx, "identity", ident).status == "done"
    net = {"broker_host": "127.0.0.1", "broker_port": broker.port, "tls": True}
    assert run_step(ctx, "network", net).status == "done"


def _broker_check(ctx: Context, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--yes", "selftest", "--json", "--only", "broker"], context=ctx) == 1
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (check,) = result["checks"]
    assert check["status"] == "fail" and check["fix"]
    return dict(check)


def test_broker_gone_after_provisioning_fails_the_selftest_with_a_fix(
    ctx: Context, tmp_path: Path, pki: Pki, broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    _identity_and_network(ctx, tmp_path, pki.ca, pki.ca.ca_file, pki, broker)
    broker.stop()
    check = _broker_check(ctx, capsys)
    assert "cannot reach the broker" in str(check["detail"])


def test_wrong_ca_bundle_fails_the_broker_round_trip(
    ctx: Context, tmp_path: Path, pki: Pki, broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    from provisioning.selftest import Probes

    rogue = DevCA(tmp_path / "rogue")  # a CA the broker does not know
    _identity_and_network(ctx, tmp_path, rogue, rogue.ca_file, pki, broker)
    ctx.probes = Probes(clock_synchronised=lambda: True, broker_timeout_s=4.0)
    check = _broker_check(ctx, capsys)
    assert "no application ack from the portal" in str(check["detail"])
    assert "certificate" in str(check["fix"])


def test_replies_signed_by_an_untrusted_key_fail_the_selftest_and_name_the_key(
    ctx: Context,
    tmp_path: Path,
    pki: Pki,
    broker: Broker,
    portal: Portal,
    portal_files: PortalFiles,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The self-test judges the portal's ack as the kiosk will: a portal signing with a key
    this kiosk was not given is a failure that says which key to install."""
    from provisioning.steps import run_step

    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    cert = sign_csr(pki.ca, ctx.layout.csr, tmp_path / "device.crt")
    shutil.copyfile(ctx.layout.prov / "device_ed25519.pub.pem",
                    portal.keys_dir / f"{DEVICE_ID}.pem")  # fmt: skip
    ident = {"cert": cert, "ca": pki.ca.ca_file, "portal_key": pki.portal_public,
             "portal_signing_key": portal_files.signing_public}  # fmt: skip
    assert run_step(ctx, "identity", ident).status == "done"
    net = {"broker_host": "127.0.0.1", "broker_port": broker.port, "tls": True}
    assert run_step(ctx, "network", net).status == "done"
    check = _broker_check(ctx, capsys)
    assert "unknown_key" in str(check["detail"]) and "signing key" in str(check["fix"])
