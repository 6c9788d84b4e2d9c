"""Helpers for the provisioning tests: the portal CA signing a CSR, portal files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from portal.devkeys import DevCA

DEVICE_ID = "kiosk-3510012001-01"
VILLAGE = "35.10.01.2001"


def sign_csr(
    ca: DevCA,
    csr_path: Path,
    out: Path,
    *,
    valid_from: dt.datetime | None = None,
    days: float = 365,
) -> Path:
    """Act as the portal CA: issue a client certificate for the CSR at ``csr_path``."""
    csr = x509.load_pem_x509_csr(csr_path.read_bytes())
    start = valid_from or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return out


@dataclass
class PortalFiles:
    """What a portal hands a technician (besides the certificate)."""

    ca: DevCA
    x25519_public: Path
    x25519_private: Path
    signing_key: Ed25519PrivateKey
    signing_public: Path
