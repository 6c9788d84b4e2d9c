"""Step 1, device identity: keys made on the device, a CSR, and the checked certificate install.

Two key pairs are made here and never leave ``<data_dir>/keys`` (0700, files 0600): the EC P-256
TLS client key (its CSR goes to the portal CA) and the Ed25519 signing key of the uplink
envelopes and the provisioning report (its public half goes in the report). The certificate is
installed only after it matches the key, is valid now, and chains to the CA bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from kiosk.crypto.keys import (
    key_id,
    load_or_create_device_key,
    load_portal_public_key,
    public_pem,
)
from kiosk.errors import CryptoError

from .context import Context
from .errors import StepError, StepWaiting
from .fsutil import write_atomic
from .layout import Layout

ORGANISATION = "Kios Perlinsos"
DEVICE_PUBLIC_NAME = "device_ed25519.pub.pem"
"""Beside the CSR: the device signing key's public half, for the portal to enrol."""
MAX_CHAIN = 5


def load_or_create_tls_key(layout: Layout) -> ec.EllipticCurvePrivateKey:
    """The TLS client key, generated on first use (EC P-256, PEM, 0600, atomic)."""
    try:
        pem = layout.tls_key.read_bytes()
    except FileNotFoundError:
        layout.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        write_atomic(
            layout.tls_key,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            mode=0o600,
        )
        return key
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise StepError(
            "tls_key_corrupt",
            f"the TLS key {layout.tls_key} is unreadable",
            "run 'kiosk-provision reset --force' to start again with new keys",
        ) from err
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise StepError(
            "tls_key_corrupt",
            f"the TLS key {layout.tls_key} is not an EC key",
            "run 'kiosk-provision reset --force' to start again with new keys",
        )
    return loaded


def make_csr(layout: Layout, device_id: str) -> Path:
    """Write (or keep) the CSR for ``device_id`` signed by the TLS key; returns its path."""
    key = load_or_create_tls_key(layout)
    device_key = load_or_create_device_key(layout.data_dir)
    write_atomic(layout.prov / DEVICE_PUBLIC_NAME, public_pem(device_key), mode=0o644)
    if layout.csr.is_file():
        try:
            old = x509.load_pem_x509_csr(layout.csr.read_bytes())
            if _cn(old.subject) == device_id and _same_key(old.public_key(), key.public_key()):
                return layout.csr
        except ValueError:
            pass
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                    x509.NameAttribute(NameOID.COMMON_NAME, device_id),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    write_atomic(layout.csr, csr.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return layout.csr


def _cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _same_key(a: object, b: object) -> bool:
    def spki(k: Any) -> bytes:
        return bytes(
            k.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    return spki(a) == spki(b)


def _read(path: Path, what: str, fix: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise StepError(
            "file_missing", f"cannot read the {what} {path}: {err.strerror}", fix
        ) from err


def load_certs(pem: bytes, where: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; a clear error when there is none."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as err:
        raise StepError(
            "cert_unreadable",
            f"{where} is not a PEM certificate file",
            "copy the .crt/.pem file exactly as the portal issued it (it starts with "
            "'-----BEGIN CERTIFICATE-----')",
        ) from err
    return certs


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_certificate(
    cert: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    bundle: list[x509.Certificate],
    device_id: str,
    now: float,
) -> None:
    """Raise a StepError unless ``cert`` matches ``key`` and ``device_id``, is valid at ``now``
    (epoch seconds) and chains to a self-signed CA in ``bundle``."""
    if not _same_key(cert.public_key(), key.public_key()):
        raise StepError(
            "cert_mismatch",
            "the certificate does not belong to this kiosk's key (it was issued for another "
            "CSR or another kiosk)",
            "take this kiosk's CSR (kiosk-provision identity --csr-only shows it) to the portal "
            "again and install the certificate issued for it",
        )
    if _cn(cert.subject) != device_id:
        raise StepError(
            "cert_wrong_device",
            f"the certificate is for device {_cn(cert.subject)!r}, this kiosk is {device_id!r}",
            "install the certificate issued for this kiosk's device id",
        )
    when = dt.datetime.fromtimestamp(now, dt.UTC)
    if when < cert.not_valid_before_utc:
        raise StepError(
            "cert_not_yet_valid",
            f"the certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC "
            f"but the kiosk clock says {when:%Y-%m-%d %H:%M} UTC",
            "set the kiosk clock (connect to the network so it syncs, or 'date -s'), then retry",
        )
    if when > cert.not_valid_after_utc:
        raise StepError(
            "cert_expired",
            f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d} "
            f"(kiosk clock: {when:%Y-%m-%d})",
            "ask the portal for a new certificate for this kiosk's CSR; if the date is wrong, "
            "set the kiosk clock first",
        )
    current = cert
    for _ in range(MAX_CHAIN):
        issuer = next((c for c in bundle if _issued_by(current, c)), None)
        if issuer is None:
            break
        if issuer.subject == issuer.issuer:
            return
        current = issuer
    raise StepError(
        "cert_chain",
        "the certificate was not signed by the CA in the CA bundle",
        "install the CA bundle that belongs to this portal (ca.pem from the same portal that "
        "signed the certificate)",
    )


def check_portal_signing_key(pem: bytes, where: str) -> Ed25519PublicKey:
    """Parse the portal's Ed25519 signing public key (PEM)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as err:
        raise StepError(
            "portal_key_invalid",
            f"{where} is not a PEM public key",
            "copy portal_ed25519.pub.pem from the portal unchanged",
        ) from err
    if not isinstance(key, Ed25519PublicKey):
        raise StepError(
            "portal_key_invalid",
            f"{where} is not an Ed25519 key (the portal's agent-file signing key)",
            "use the portal's signing key file portal_ed25519.pub.pem, not another key",
        )
    return key


@dataclass(frozen=True)
class IdentityFiles:
    """What the technician brings back from the portal."""

    cert: Path
    ca: Path
    portal_key: Path
    portal_signing_key: Path | None = None
    portal_signing_key_next: Path | None = None  # during a key change-over: trusted as well


def install(layout: Layout, device_id: str, files: IdentityFiles, now: float) -> dict[str, Any]:
    """Verify every file first, then install each atomically; returns a summary."""
    key = load_or_create_tls_key(layout)
    fix_copy = "copy the file from the portal's provisioning package again"
    cert_pem = _read(files.cert, "device certificate", fix_copy)
    ca_pem = _read(files.ca, "CA bundle", fix_copy)
    certs = load_certs(cert_pem, str(files.cert))
    bundle = load_certs(ca_pem, str(files.ca))
    check_certificate(certs[0], key, bundle, device_id, now)
    try:
        load_portal_public_key(files.portal_key)
    except CryptoError as err:
        raise StepError(
            "portal_key_invalid",
            f"the portal public key is not usable: {err}",
            "copy portal_x25519.pub.pem from the portal's provisioning package unchanged",
        ) from err
    signing_pem = None
    if files.portal_signing_key is not None:
        signing_pem = _read(files.portal_signing_key, "portal signing key", fix_copy)
        check_portal_signing_key(signing_pem, str(files.portal_signing_key))
    next_pem = None
    if files.portal_signing_key_next is not None:
        next_pem = _read(files.portal_signing_key_next, "next portal signing key", fix_copy)
        check_portal_signing_key(next_pem, str(files.portal_signing_key_next))
    layout.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(layout.ca, ca_pem, mode=0o644)
    write_atomic(layout.portal_key, files.portal_key.read_bytes(), mode=0o644)
    if signing_pem is not None:
        write_atomic(layout.portal_signing_key, signing_pem, mode=0o644)
    next_path = layout.portal_signing_key.with_name("portal_ed25519.next.pub.pem")
    if next_pem is not None:
        write_atomic(next_path, next_pem, mode=0o644)
    elif signing_pem is not None and next_path.exists():
        next_path.unlink()  # change-over finished: only the installed key is trusted
    write_atomic(layout.cert, cert_pem, mode=0o644)  # last: its presence marks the step done
    return summary(layout)


def installed_problem(layout: Layout, device_id: str, now: float) -> StepError | None:
    """Why the installed identity is not usable now (None when it is)."""
    if not layout.cert.is_file() or not layout.ca.is_file() or not layout.portal_key.is_file():
        return StepWaiting(
            "identity_missing",
            "no device certificate is installed yet",
            "run 'kiosk-provision identity' with --cert, --ca and --portal-key",
        )
    try:
        cert = load_certs(layout.cert.read_bytes(), str(layout.cert))[0]
        bundle = load_certs(layout.ca.read_bytes(), str(layout.ca))
        check_certificate(cert, load_or_create_tls_key(layout), bundle, device_id, now)
    except StepError as err:
        return err
    return None


def summary(layout: Layout) -> dict[str, Any]:
    """Public facts about the identity (for the state file and the report; no secrets)."""
    out: dict[str, Any] = {}
    device_key = load_or_create_device_key(layout.data_dir)
    out["device_public_key_pem"] = public_pem(device_key).decode()
    out["device_key_id"] = key_id(device_key.public_key())
    if layout.cert.is_file():
        cert = load_certs(layout.cert.read_bytes(), str(layout.cert))[0]
        out["certificate_subject"] = _cn(cert.subject)
        out["certificate_serial"] = format(cert.serial_number, "x")
        out["certificate_not_after"] = cert.not_valid_after_utc.isoformat()
        out["certificate_sha256"] = hashlib.sha256(
            cert.public_bytes(serialization.Encoding.DER)
        ).hexdigest()
    return out


def run_identity(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """The identity step: keys + CSR; with --cert/--ca/--portal-key, the checked install."""
    layout = ctx.layout
    device_id = inputs.get("device_id")
    if not device_id:
        raise StepError(
            "device_id_missing",
            "no device id given",
            "pass --device-id, e.g. kiosk-3510012001-01 (lower-case letters, digits and '-')",
        )
    from kiosk.config import DeviceConfig

    try:
        DeviceConfig(id=device_id)
    except ValueError as err:
        raise StepError(
            "device_id_invalid",
            f"device id {device_id!r} is not allowed",
            "use 3-40 lower-case letters, digits and '-', e.g. kiosk-3510012001-01",
        ) from err
    csr = make_csr(layout, device_id)
    from .tomlfile import update_config

    update_config(
        layout.config, {"device": {"id": device_id}, "paths": {"data_dir": str(layout.data_dir)}}
    )
    if not all(inputs.get(k) for k in ("cert", "ca", "portal_key")):
        if installed_problem(layout, device_id, ctx.clock.now()) is None:
            return summary(layout)
        raise StepWaiting(
            "certificate_needed",
            f"keys made; the certificate request is at {csr}",
            "take device.csr and device_ed25519.pub.pem (same folder) to the portal, then "
            "run 'kiosk-provision identity --device-id "
            f"{device_id} --cert device.crt --ca ca.pem --portal-key portal_x25519.pub.pem "
            "[--portal-signing-key portal_ed25519.pub.pem]'",
        )
    files = IdentityFiles(
        Path(inputs["cert"]),
        Path(inputs["ca"]),
        Path(inputs["portal_key"]),
        Path(inputs["portal_signing_key"]) if inputs.get("portal_signing_key") else None,
        Path(inputs["portal_signing_key_next"]) if inputs.get("portal_signing_key_next") else None,
    )
    result = install(layout, device_id, files, ctx.clock.now())
    update_config(layout.config, {"uplink": {"portal_public_key": str(layout.portal_key)}})
    return result


def identity_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when a certificate for this device id is installed and valid now."""
    device_id = str(inputs.get("device_id") or "")
    return bool(device_id) and installed_problem(ctx.layout, device_id, ctx.clock.now()) is None
