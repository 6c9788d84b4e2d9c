"""Reference fixtures: a database, the at-rest cipher, portal signing keys, sample entries."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, entries

from kiosk.config import BiometricsConfig
from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.crypto.signed import sign_message
from kiosk.references.message import (
    ReferenceEntry,
    reference_set_body,
    revocation_body,
)
from kiosk.references.store import ReferenceStore
from kiosk.store.db import connect
from kiosk.vision.models import ModelPack
from kiosk.vision.pipeline import FacePipeline
from tests.fixtures.app import SHARED


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    """The real face pipeline over the shared model pack (one a module: loading takes ~1 s)."""
    if not (SHARED / "models" / "SHA256SUMS").is_file():
        pytest.fail("model pack missing beside the checkout")
    return FacePipeline(ModelPack.load(SHARED / "models"), BiometricsConfig())


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database."""
    c = connect(tmp_path / "kiosk.sqlite3")
    yield c
    c.close()


@pytest.fixture
def cipher() -> AtRestCipher:
    """An at-rest cipher with a fixed test key."""
    return AtRestCipher(b"k" * 32)


@pytest.fixture
def store(conn: sqlite3.Connection, cipher: AtRestCipher, clock: FakeClock) -> ReferenceStore:
    """An empty reference store."""
    return ReferenceStore(conn, cipher, clock)


@pytest.fixture(scope="session")
def portal_key() -> Ed25519PrivateKey:
    """The portal's signing key."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def make_set(portal_key: Ed25519PrivateKey, clock: FakeClock) -> Callable[..., bytes]:
    """Build a signed reference-set message."""

    def make(
        version: int = 1,
        *,
        items: list[ReferenceEntry] | None = None,
        village: str = VILLAGE,
        ttl_s: float = 30 * 86400,
        key: Ed25519PrivateKey | None = None,
        **override: object,
    ) -> bytes:
        now = int(clock.now())
        body = reference_set_body(
            village_code=village,
            version=version,
            issued_at=now,
            expires_at=int(now + ttl_s),
            entries=entries() if items is None else items,
        )
        body.update(override)
        return sign_message(body, key or portal_key)

    return make


@pytest.fixture
def make_revoke(portal_key: Ed25519PrivateKey, clock: FakeClock) -> Callable[..., bytes]:
    """Build a signed revoke message."""

    def make(version: int, *, village: str = VILLAGE, reason: str = "registry correction") -> bytes:
        body = revocation_body(
            village_code=village, version=version, issued_at=int(clock.now()), reason=reason
        )
        return sign_message(body, portal_key)

    return make
