"""Step 1: keys made on the device, the CSR, and the checked certificate install."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509

from portal.devkeys import DevCA
from provisioning.context import Context
from provisioning.steps import run_step
from provisioning.tomlfile import load_kiosk_config
from tests.provisioning.helpers import DEVICE_ID, PortalFiles, sign_csr


def _identity(pf: PortalFiles, cert: Path) -> dict[str, object]:
    return {
        "device_id": DEVICE_ID,
        "cert": cert,
        "ca": pf.ca.ca_file,
        "portal_key": pf.x25519_public,
        "portal_signing_key": pf.signing_public,
    }


def test_first_run_makes_private_keys_and_a_csr_then_waits(ctx: Context) -> None:
    out = run_step(ctx, "identity", {"device_id": DEVICE_ID})
    assert out.status == "waiting" and out.error is not None
    assert out.error.code == "certificate_needed"
    lay = ctx.layout
    for key in (lay.tls_key, lay.device_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    csr = x509.load_pem_x509_csr(lay.csr.read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string().startswith(f"CN={DEVICE_ID}")
    assert (lay.prov / "device_ed25519.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC")
    assert load_kiosk_config(lay.config).device.id == DEVICE_ID


def test_rerun_keeps_the_same_key_and_csr(ctx: Context) -> None:
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    key, csr = ctx.layout.tls_key.read_bytes(), ctx.layout.csr.read_bytes()
    run_step(ctx, "identity", {})  # the device id is remembered in the state file
    assert ctx.layout.tls_key.read_bytes() == key
    assert ctx.layout.csr.read_bytes() == csr


def test_valid_certificate_installs_and_marks_done(
    ctx: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    cert = sign_csr(portal_files.ca, ctx.layout.csr, tmp_path / "device.crt")
    out = run_step(ctx, "identity", _identity(portal_files, cert))
    assert out.status == "done", out.error
    assert ctx.layout.cert.read_bytes() == cert.read_bytes()
    assert ctx.layout.portal_signing_key.is_file()
    assert out.summary["certificate_subject"] == DEVICE_ID
    assert run_step(ctx, "identity", {}).status == "skipped"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("expired", "cert_expired"),
        ("future", "cert_not_yet_valid"),
        ("other_key", "cert_mismatch"),
        ("other_ca", "cert_chain"),
        ("other_device", "cert_wrong_device"),
    ],
)
def test_bad_certificate_is_refused_and_nothing_is_installed(
    ctx: Context, portal_files: PortalFiles, tmp_path: Path, case: str, code: str
) -> None:
    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    now = dt.datetime.now(dt.UTC)
    out_path = tmp_path / "device.crt"
    if case == "expired":
        sign_csr(portal_files.ca, ctx.layout.csr, out_path, valid_from=now - dt.timedelta(days=400))
    elif case == "future":
        sign_csr(portal_files.ca, ctx.layout.csr, out_path, valid_from=now + dt.timedelta(days=2))
    elif case == "other_key":
        out_path.write_bytes(portal_files.ca.issue(DEVICE_ID).cert.read_bytes())
    elif case == "other_ca":
        sign_csr(DevCA(tmp_path / "rogue"), ctx.layout.csr, out_path)
    else:
        other = tmp_path / "other"
        other_ctx = Context(other, clock=ctx.clock, nm_dir=ctx.nm_dir, say=ctx.say)
        run_step(other_ctx, "identity", {"device_id": "kiosk-someone-else"})
        sign_csr(portal_files.ca, other_ctx.layout.csr, out_path)
        # install the other kiosk's key here so only the device id differs
        ctx.layout.tls_key.write_bytes(other_ctx.layout.tls_key.read_bytes())
    out = run_step(ctx, "identity", _identity(portal_files, out_path))
    assert out.status == "failed"
    assert out.error is not None and out.error.code == code
    assert "How to fix" in str(out.error)
    assert not ctx.layout.cert.exists()
    assert not ctx.layout.ca.exists()


def test_bad_device_id_is_explained(ctx: Context) -> None:
    out = run_step(ctx, "identity", {"device_id": "Kiosk One"})
    assert out.error is not None and out.error.code == "device_id_invalid"
    assert not ctx.layout.tls_key.exists()


def test_a_key_change_over_trusts_both_keys_then_only_the_new(
    ctx: Context, portal_files: PortalFiles, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.crypto.keys import public_pem
    from kiosk.crypto.trust import TrustedKeys

    run_step(ctx, "identity", {"device_id": DEVICE_ID})
    cert = sign_csr(portal_files.ca, ctx.layout.csr, tmp_path / "device.crt")
    new = Ed25519PrivateKey.generate()
    new_pub = tmp_path / "portal_ed25519.new.pub.pem"
    new_pub.write_bytes(public_pem(new))
    trusted = TrustedKeys([ctx.layout.keys], recheck_s=0.0)
    out = run_step(
        ctx, "identity", {**_identity(portal_files, cert), "portal_signing_key_next": new_pub}
    )
    assert out.status == "done", out.error
    raw = {k.public_bytes_raw() for k in trusted()}
    assert raw == {
        portal_files.signing_key.public_key().public_bytes_raw(),
        new.public_key().public_bytes_raw(),
    }
    # change-over done: the new key is installed as the only one
    ctx.layout.cert.unlink()
    out = run_step(
        ctx, "identity", {**_identity(portal_files, cert), "portal_signing_key": new_pub}
    )
    assert out.status == "done", out.error
    assert {k.public_bytes_raw() for k in trusted()} == {new.public_key().public_bytes_raw()}
