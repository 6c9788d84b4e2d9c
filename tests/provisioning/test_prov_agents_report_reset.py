"""Steps 5 and 7 and the factory reset: signed agent files, the signed report, crypto-shred."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.agents.accounts import AgentRepository
from kiosk.crypto.atrest import AtRestCipher, load_or_create_key
from kiosk.crypto.keys import load_or_create_device_key
from kiosk.store.db import connect
from kiosk.store.outbox import OutboxRepository
from kiosk.vision.embedder import template_to_bytes
from provisioning.agents import FORMAT, sign_agent_file
from provisioning.cli import main
from provisioning.context import Context
from provisioning.report import verify_signed_report
from provisioning.steps import run_step
from tests.provisioning.helpers import DEVICE_ID, PortalFiles

PIN = "582947"


def _template(seed: int) -> str:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return base64.b64encode(template_to_bytes(v / np.linalg.norm(v))).decode()


@pytest.fixture
def bound(ctx: Context, portal_files: PortalFiles) -> Context:
    """Device id known, portal signing key installed (as the identity step leaves them)."""
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    shutil.copyfile(portal_files.signing_public, ctx.layout.portal_signing_key)
    return ctx


def _agent_file(pf: PortalFiles, tmp: Path, device_id: str = DEVICE_ID, **change: Any) -> Path:
    body = {
        "format": FORMAT,
        "device_id": device_id,
        "issued_at": 1_780_000_000,
        "agents": [
            {"id": "AG-3510-001", "role": "pkh", "name": "Bu Sri", "pin": PIN,
             "template": _template(1)},
            {"id": "AG-3510-002", "role": "dasa_wisma", "name": "Bu Ani", "pin": "739164"},
        ],
    }  # fmt: skip
    signed = sign_agent_file(body, pf.signing_key)
    signed.update(change)
    path = tmp / "agents.signed.json"
    path.write_text(json.dumps(signed))
    return path


def _repo(ctx: Context) -> AgentRepository:
    conn = connect(ctx.layout.database)
    return AgentRepository(conn, AtRestCipher(load_or_create_key(ctx.layout.data_key)), ctx.clock)


def test_signed_agent_file_enrols_every_agent(
    bound: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    out = run_step(bound, "agents", {"file": _agent_file(portal_files, tmp_path)})
    assert out.status == "done", out.error
    repo = _repo(bound)
    assert repo.verify_pin("AG-3510-001", PIN)
    assert repo.template("AG-3510-001") is not None
    assert repo.get("AG-3510-002") is not None
    assert PIN not in bound.layout.state.read_text()
    assert run_step(bound, "agents", {}).status == "skipped"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"agents": []}, "agents_signature"),  # edited after signing
        ({"signature": "AAAA"}, "agents_signature"),
        ({"format": "something/9"}, "agents_file_invalid"),
    ],
)
def test_tampered_agent_file_is_refused(
    bound: Context, portal_files: PortalFiles, tmp_path: Path, change: dict[str, Any], code: str
) -> None:
    out = run_step(bound, "agents", {"file": _agent_file(portal_files, tmp_path, **change)})
    assert out.status == "failed" and out.error is not None
    assert out.error.code == code
    assert not bound.layout.database.exists() or _repo(bound).get("AG-3510-001") is None


def test_agent_file_for_another_kiosk_is_refused(
    bound: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    path = _agent_file(portal_files, tmp_path, device_id="kiosk-other-01")
    out = run_step(bound, "agents", {"file": path})
    assert out.error is not None and out.error.code == "agents_wrong_device"


def test_one_bad_entry_enrols_nobody(
    bound: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    body = json.loads(_agent_file(portal_files, tmp_path).read_text())
    body.pop("signature")
    body["agents"][1]["pin"] = "123456"  # too easy
    path = tmp_path / "a.json"
    path.write_text(json.dumps(sign_agent_file(body, portal_files.signing_key)))
    out = run_step(bound, "agents", {"file": path})
    assert out.error is not None and out.error.code == "agent_invalid"
    assert "AG-3510-002" in out.error.problem
    assert not bound.layout.database.exists() or _repo(bound).get("AG-3510-001") is None


def test_one_agent_enrolled_on_the_device_with_a_face_photo(
    bound: Context, pack_src: Path, shared_dir: Path
) -> None:
    assert run_step(bound, "models", {"source": pack_src}).status == "done"
    face = shared_dir / "faces" / "identities" / "p03" / "img8.jpg"
    out = run_step(bound, "agents", {"id": "ag-3510-009", "role": "operator",
                                     "name": "Pak Budi", "pin": PIN, "face": face})  # fmt: skip
    assert out.status == "done", out.error
    assert _repo(bound).template("AG-3510-009") is not None


def test_a_missing_model_pack_is_named_not_blamed_on_the_face_photo(
    bound: Context, shared_dir: Path
) -> None:
    face = shared_dir / "faces" / "identities" / "p03" / "img8.jpg"
    out = run_step(bound, "agents", {"id": "ag-3510-009", "role": "operator",
                                     "name": "Pak Budi", "pin": PIN, "face": face})  # fmt: skip
    assert out.error is not None and out.error.code == "agent_models", out.error
    assert "model pack" in out.error.problem and "kiosk-provision models" in out.error.fix
    assert "no usable face" not in out.error.problem


def test_no_agents_is_a_question_not_a_silent_pass(bound: Context) -> None:
    out = run_step(bound, "agents", {})
    assert out.error is not None and out.error.code == "agents_needed"
    assert run_step(bound, "agents", {"none": True}).status == "done"


def _provisioned_for_report(ctx: Context, pf: PortalFiles, tmp_path: Path) -> None:
    from tests.provisioning.helpers import sign_csr

    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    cert = sign_csr(pf.ca, ctx.layout.csr, tmp_path / "d.crt")
    ident = {"cert": cert, "ca": pf.ca.ca_file, "portal_key": pf.x25519_public}
    assert run_step(ctx, "identity", ident).status == "done"
    assert run_step(ctx, "village", {"village_code": "3510012001", "name": "Desa X",
                                     "location": "Balai"}).status == "done"  # fmt: skip


def test_report_is_signed_kept_locally_and_queued(
    ctx: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    _provisioned_for_report(ctx, portal_files, tmp_path)
    out = run_step(ctx, "report", {})
    assert out.status == "done", out.error
    signed = json.loads(ctx.layout.report_json.read_text())
    report = verify_signed_report(signed, load_or_create_device_key(ctx.data_dir).public_key())
    assert report["device_id"] == DEVICE_ID and report["location"] == "Balai"
    assert report["steps"]["identity"]["status"] == "done"
    text = ctx.layout.report_text.read_text()
    assert DEVICE_ID in text and "identity" in text
    conn = connect(ctx.layout.database)
    assert OutboxRepository(conn).state_of(signed["record_id"]) == ("pending", 0, None)
    signed["report"]["location"] = "elsewhere"
    from provisioning.errors import StepError

    with pytest.raises(StepError):
        verify_signed_report(signed, load_or_create_device_key(ctx.data_dir).public_key())


def test_reset_refuses_while_records_wait_then_shreds_with_force(
    ctx: Context, portal_files: PortalFiles, tmp_path: Path, said: list[str]
) -> None:
    _provisioned_for_report(ctx, portal_files, tmp_path)
    run_step(ctx, "report", {})  # one record now waits in the outbox
    key_files = [p for p in ctx.layout.keys.iterdir() if p.is_file()]
    assert key_files
    assert main(["reset"], context=ctx) == 1
    assert "1 record(s) have not reached the portal" in "\n".join(said)
    assert ctx.layout.device_key.exists()  # nothing destroyed
    assert main(["reset", "--force"], context=ctx) == 0
    assert "WARNING: 1 unsent record(s) were destroyed" in "\n".join(said)
    assert not ctx.layout.keys.exists()
    assert not ctx.layout.database.exists() and not ctx.layout.config.exists()
    assert not ctx.layout.prov.exists()


def test_reset_of_a_kiosk_with_nothing_waiting_needs_no_force(ctx: Context) -> None:
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    assert main(["reset"], context=ctx) == 0
    assert not ctx.layout.tls_key.exists()


def test_reset_refuses_a_folder_that_is_not_a_kiosk_data_dir(
    tmp_path: Path, said: list[str]
) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    assert main(["reset", "--force"], context=Context(precious, say=said.append)) == 1
    assert (precious / "thesis.txt").read_text() == "keep me"
    assert "does not look like a kiosk data directory" in "\n".join(said)


def test_reset_removes_other_kiosk_files_and_can_keep_models(ctx: Context, pack_src: Path) -> None:
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    assert run_step(ctx, "models", {"source": pack_src}).status == "done"
    (ctx.data_dir / "speech-cache").mkdir()
    (ctx.data_dir / "speech-cache" / "a.wav").write_bytes(b"x")
    assert main(["reset", "--keep-models"], context=ctx) == 0
    assert sorted(p.name for p in ctx.data_dir.iterdir()) == ["models"]
