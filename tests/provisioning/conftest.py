"""Provisioning fixtures: a context on a fresh data dir, a throwaway CA that signs CSRs, a
portal signing key, and a writable copy of the model pack."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.clock import FakeClock
from portal.devkeys import DevCA, make_portal_keys
from provisioning.context import Context
from provisioning.selftest import Probes
from tests.provisioning.helpers import PortalFiles


@pytest.fixture
def portal_files(tmp_path: Path) -> PortalFiles:
    """A throwaway CA, portal envelope keys and a portal agent-file signing key."""
    d = tmp_path / "portal-package"
    ca = DevCA(d)
    private, public = make_portal_keys(d)
    signing = Ed25519PrivateKey.generate()
    signing_pub = d / "portal_ed25519.pub.pem"
    signing_pub.write_bytes(
        signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return PortalFiles(ca, public, private, signing, signing_pub)


@pytest.fixture
def wall_clock() -> FakeClock:
    """A fake clock starting at the real now (certificates are issued at real time)."""
    return FakeClock(time.time())


@pytest.fixture
def said() -> list[str]:
    """Lines the CLI said to the technician."""
    return []


@pytest.fixture
def ctx(data_dir: Path, tmp_path: Path, wall_clock: FakeClock, said: list[str]) -> Context:
    """A provisioning context on a fresh data dir; nobody answers questions."""
    nm = tmp_path / "nm"
    return Context(
        data_dir,
        clock=wall_clock,
        nm_dir=nm,
        say=said.append,
        probes=Probes(
            clock_synchronised=lambda: True,
            min_free_bytes=1024,
            broker_timeout_s=15.0,
            camera_timeout_s=10.0,
        ),
    )


@pytest.fixture
def pack_src(tmp_path: Path, shared_dir: Path) -> Path:
    """A writable copy of the shared model pack (a 'USB stick')."""
    dst = tmp_path / "usb" / "models"
    shutil.copytree(shared_dir / "models", dst, copy_function=shutil.copyfile)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst
