"""The reference store: sealed at rest, atomic replace by version, expiry and revoke purges."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, entries, template

from kiosk.core.clock import FakeClock
from kiosk.crypto.atrest import AtRestCipher
from kiosk.errors import StoreError
from kiosk.references.message import (
    ReferenceEntry,
    ReferenceSet,
    Revocation,
    parse_reference_set,
)
from kiosk.references.store import ReferenceStore, StaleReferenceSet


def _set(
    version: int, clock: FakeClock, items: list[ReferenceEntry] | None = None, ttl: float = 86400.0
) -> ReferenceSet:
    return ReferenceSet(
        VILLAGE,
        version,
        clock.now(),
        clock.now() + ttl,
        "kid12345",
        tuple(entries() if items is None else items),
    )


def _revoke(version: int, reason: str = "portal revoke") -> Revocation:
    return Revocation(VILLAGE, version, 0.0, reason, "kid12345")


def test_lookup_finds_each_resident(store: ReferenceStore, clock: FakeClock) -> None:
    info = store.replace(_set(1, clock))
    assert (info.set_version, info.state, info.entries) == (1, "active", 3)
    for i, e in enumerate(entries()):
        ref = store.lookup(e.nik)
        assert ref is not None
        assert (ref.template, ref.kk, ref.initials) == (template(i), e.kk, e.initials)
        assert (ref.source, ref.set_version, ref.village_code) == ("village_set", 1, VILLAGE)
        assert e.nik not in repr(ref)
    assert store.lookup("3510019999990001") is None


def test_nothing_personal_is_stored_in_clear(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(1, clock))
    dump = "\n".join(conn.iterdump()).encode()
    for e in entries():
        assert e.nik.encode() not in dump
        assert e.kk.encode() not in dump
        assert e.initials.encode() not in dump
        assert e.template[4:40].hex().encode() not in dump
        assert e.template[4:40] not in b"".join(
            r[0] for r in conn.execute("SELECT sealed FROM reference_entry")
        )


def test_another_device_key_cannot_read_the_set(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(1, clock))
    stranger = ReferenceStore(conn, AtRestCipher(b"x" * 32), clock)
    with pytest.raises(Exception, match="authentication"):
        stranger.lookup(entries()[0].nik)


def test_newer_version_replaces_the_whole_set(store: ReferenceStore, clock: FakeClock) -> None:
    store.replace(_set(1, clock))
    newer = [ReferenceEntry("3510015505900001", "3510012001000099", "B.B", template(9))]
    info = store.replace(_set(2, clock, newer))
    assert (info.set_version, info.entries) == (2, 1)
    assert store.lookup(entries()[0].nik) is None  # old residents are gone
    ref = store.lookup("3510015505900001")
    assert ref is not None and ref.template == template(9) and ref.set_version == 2


@pytest.mark.parametrize("version", [1, 2])
def test_same_or_older_version_is_refused_and_changes_nothing(
    store: ReferenceStore, clock: FakeClock, version: int
) -> None:
    store.replace(_set(2, clock))
    with pytest.raises(StaleReferenceSet, match="not newer"):
        store.replace(_set(version, clock, []))
    assert store.lookup(entries()[0].nik) is not None
    info = store.info(VILLAGE)
    assert info is not None and (info.set_version, info.entries) == (2, 3)


def test_replace_is_atomic_when_the_insert_fails(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(1, clock))
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON reference_entry "
        "WHEN (SELECT COUNT(*) FROM reference_entry) >= 1 "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    with pytest.raises(StoreError):
        store.replace(_set(2, clock))
    conn.execute("DROP TRIGGER boom")
    info = store.info(VILLAGE)
    assert info is not None and (info.set_version, info.entries) == (1, 3)
    assert all(store.lookup(e.nik) is not None for e in entries())


def test_expired_set_is_purged(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(1, clock, ttl=3600))
    clock.advance(3599)
    assert store.purge_expired() == 0
    assert store.lookup(entries()[0].nik) is not None
    clock.advance(2)
    assert store.purge_expired() == 1
    assert conn.execute("SELECT COUNT(*) FROM reference_entry").fetchone()[0] == 0
    info = store.info(VILLAGE)
    assert info is not None and (info.state, info.entries, info.reason) == ("expired", 0, "expired")
    assert conn.execute("SELECT key_sealed FROM reference_set").fetchone()[0] is None
    assert store.lookup(entries()[0].nik) is None


def test_lookup_never_returns_an_expired_reference(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(1, clock, ttl=60))
    clock.advance(61)
    assert store.lookup(entries()[0].nik) is None  # purged on the way
    assert conn.execute("SELECT COUNT(*) FROM reference_entry").fetchone()[0] == 0


def test_a_newer_set_may_follow_an_expired_one(store: ReferenceStore, clock: FakeClock) -> None:
    store.replace(_set(1, clock, ttl=60))
    clock.advance(61)
    store.purge_expired()
    store.replace(_set(2, clock))
    assert store.lookup(entries()[0].nik) is not None


def test_revoke_purges_and_blocks_replay(
    store: ReferenceStore, conn: sqlite3.Connection, clock: FakeClock
) -> None:
    store.replace(_set(3, clock))
    assert store.revoke(_revoke(3, "photos withdrawn")) is True
    assert store.lookup(entries()[0].nik) is None
    assert conn.execute("SELECT COUNT(*) FROM reference_entry").fetchone()[0] == 0
    info = store.info(VILLAGE)
    assert info is not None and (info.state, info.reason) == ("revoked", "photos withdrawn")
    with pytest.raises(StaleReferenceSet):
        store.replace(_set(3, clock))  # the revoked set replayed
    store.replace(_set(4, clock))  # the portal's next set is fine
    assert store.lookup(entries()[0].nik) is not None


def test_revoke_of_an_older_version_keeps_the_newer_set(
    store: ReferenceStore, clock: FakeClock
) -> None:
    store.replace(_set(5, clock))
    assert store.revoke(_revoke(4)) is False
    assert store.lookup(entries()[0].nik) is not None


def test_revoke_before_any_set_blocks_those_versions(
    store: ReferenceStore, clock: FakeClock
) -> None:
    assert store.revoke(_revoke(2)) is False
    with pytest.raises(StaleReferenceSet, match="revoked"):
        store.replace(_set(2, clock))
    store.replace(_set(3, clock))
    assert store.lookup(entries()[0].nik) is not None


def test_an_already_expired_set_is_not_installed(store: ReferenceStore, clock: FakeClock) -> None:
    with pytest.raises(StaleReferenceSet, match="expired"):
        store.replace(_set(1, clock, ttl=-1))
    assert store.info() is None


def test_signed_message_round_trip(
    store: ReferenceStore,
    make_set: Callable[..., bytes],
    portal_key: Ed25519PrivateKey,
    clock: FakeClock,
) -> None:
    refs = parse_reference_set(
        make_set(1), trusted=portal_key.public_key(), village_code=VILLAGE, now=clock.now()
    )
    store.replace(refs)
    ref = store.lookup(entries()[2].nik)
    assert ref is not None and ref.template == template(2)
