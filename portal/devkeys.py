"""Throwaway keys for tests and the demo: a CA, broker/device/portal TLS certificates and the
portal's X25519 envelope key pair. NOT for production (no passphrases, long validity).

    python -m portal.devkeys OUTDIR --device kiosk-demo-01 [--device ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.crypto.keys import generate_portal_key, public_pem, write_private_key


@dataclass(frozen=True)
class Issued:
    """Paths of one issued certificate and its key."""

    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Perlinsos test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )


class DevCA:
    """A throwaway certificate authority stored in ``directory``."""

    def __init__(self, directory: Path, name: str = "Perlinsos Test CA") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, *, server: bool = False) -> Issued:
        """Issue a certificate with common name ``cn`` (a server cert gets localhost SANs)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        out = Issued(self.dir / f"{cn}.crt", self.dir / f"{cn}.key")
        out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(out.key, key)
        return out


def make_portal_keys(directory: Path) -> tuple[Path, Path]:
    """Write ``portal_x25519.pem`` (private, 0600) and ``portal_x25519.pub.pem``; return both."""
    directory.mkdir(parents=True, exist_ok=True)
    key = generate_portal_key()
    private = directory / "portal_x25519.pem"
    public = directory / "portal_x25519.pub.pem"
    write_private_key(private, key)
    public.write_bytes(public_pem(key))
    return private, public


def main(argv: list[str] | None = None) -> int:
    """Create a CA, a broker certificate, device and portal certificates and envelope keys."""
    parser = argparse.ArgumentParser(prog="python -m portal.devkeys", description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--device", action="append", default=[], help="device id (repeatable)")
    args = parser.parse_args(argv)
    ca = DevCA(args.outdir)
    ca.issue("broker", server=True)
    ca.issue("portal")
    for device in args.device:
        ca.issue(device)
    make_portal_keys(args.outdir)
    print(f"wrote CA, certificates and portal keys to {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
