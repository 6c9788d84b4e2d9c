"""Inbound reference messages: installed when valid, refused with a logged reason otherwise."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ref_helpers import VILLAGE, entries

from kiosk.core.clock import FakeClock
from kiosk.references.inbox import ReferenceInbox
from kiosk.references.store import ReferenceStore


@pytest.fixture
def inbox(store: ReferenceStore, portal_key: Ed25519PrivateKey, clock: FakeClock) -> ReferenceInbox:
    return ReferenceInbox(
        store, trusted=[portal_key.public_key()], village_code=VILLAGE, clock=clock
    )


def test_valid_set_is_installed(
    inbox: ReferenceInbox, store: ReferenceStore, make_set: Callable[..., bytes]
) -> None:
    assert inbox.on_reference_set(make_set(1)) is True
    assert store.lookup(entries()[0].nik) is not None


@pytest.mark.parametrize(
    ("payload_of", "reason"),
    [
        (lambda make: b"", "empty"),
        (lambda make: b"{", "not_json"),
        (lambda make: json.dumps({**json.loads(make(3)), "v": 9}).encode(), "bad_version"),
        (
            lambda make: json.dumps({**json.loads(make(2)), "set_version": 3}).encode(),
            "bad_signature",
        ),
        (lambda make: make(3, key=Ed25519PrivateKey.generate()), "unknown_key"),
        (lambda make: make(3, village="3510012002"), "wrong_village"),
        (lambda make: make(1), "stale_version"),
    ],
)
def test_bad_sets_are_rejected_with_a_logged_reason(
    inbox: ReferenceInbox,
    store: ReferenceStore,
    make_set: Callable[..., bytes],
    caplog: pytest.LogCaptureFixture,
    payload_of: Callable[[Callable[..., bytes]], bytes],
    reason: str,
) -> None:
    inbox.on_reference_set(make_set(2))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kiosk.references.inbox"):
        assert inbox.on_reference_set(payload_of(make_set)) is False
    assert f"({reason})" in caplog.text
    assert inbox.rejected == {reason: 1}
    info = store.info(VILLAGE)
    assert info is not None and info.set_version == 2  # the installed set is untouched
    for e in entries():
        assert e.nik not in caplog.text


def test_revoke_message_purges(
    inbox: ReferenceInbox,
    store: ReferenceStore,
    make_set: Callable[..., bytes],
    make_revoke: Callable[..., bytes],
) -> None:
    inbox.on_reference_set(make_set(1))
    assert inbox.on_revoke(make_revoke(1)) is True
    assert store.lookup(entries()[0].nik) is None
    assert inbox.on_reference_set(make_set(1)) is False  # replay of the revoked set
    assert inbox.rejected == {"stale_version": 1}


def test_forged_revoke_is_ignored(
    inbox: ReferenceInbox,
    store: ReferenceStore,
    make_set: Callable[..., bytes],
    make_revoke: Callable[..., bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox.on_reference_set(make_set(1))
    forged = json.dumps({**json.loads(make_revoke(1)), "reason": "evil"}).encode()
    assert inbox.on_revoke(forged) is False
    assert inbox.on_revoke(b"") is False
    assert "bad_signature" in caplog.text
    assert store.lookup(entries()[0].nik) is not None


def test_housekeeping_purges_expired_sets(
    inbox: ReferenceInbox, store: ReferenceStore, make_set: Callable[..., bytes], clock: FakeClock
) -> None:
    inbox.on_reference_set(make_set(1, ttl_s=100))
    clock.advance(101)
    assert inbox.housekeeping() == 1
    assert store.lookup(entries()[0].nik) is None


def test_trusted_keys_may_be_a_callable(
    store: ReferenceStore,
    portal_key: Ed25519PrivateKey,
    make_set: Callable[..., bytes],
    clock: FakeClock,
) -> None:
    keys: list[object] = []
    inbox = ReferenceInbox(store, trusted=lambda: keys, village_code=VILLAGE, clock=clock)  # type: ignore[arg-type,return-value]
    assert inbox.on_reference_set(make_set(1)) is False
    assert inbox.rejected == {"no_trusted_key": 1}
    keys.append(portal_key.public_key())
    assert inbox.on_reference_set(make_set(1)) is True


def test_retained_copy_of_the_installed_set_is_a_quiet_no_op(
    inbox: ReferenceInbox,
    store: ReferenceStore,
    make_set: Callable[..., bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = make_set(3)
    assert inbox.on_reference_set(payload) is True
    with caplog.at_level(logging.WARNING):
        assert inbox.on_reference_set(payload) is True  # redelivered on every reconnect
    assert caplog.text == "" and inbox.rejected == {}
    assert inbox.on_reference_set(make_set(2)) is False  # an older one is still refused
    assert inbox.rejected == {"stale_version": 1}
