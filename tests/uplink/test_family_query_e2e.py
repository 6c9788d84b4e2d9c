"""A No. KK registered at ANOTHER kiosk, over the real broker and the reference portal.

Kiosk A registers a family card; at kiosk B another member of the household answers the same
No. KK: B holds nothing, asks the portal by KK digest (sealed; never the No. KK), the portal's
signed answer flags the card as known, and what B sends becomes the next version of A's
registration, not a duplicate. A forged answer, no answer and no link all mean the card was
checked at B only, and B says so. Services come from the composition root
(``kiosk.app.build_services``) with the real uplink, sealer and store.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kiosk.app import ServiceParts, build_services
from kiosk.config import KioskConfig
from kiosk.core.clock import SystemClock
from kiosk.core.family_card import kk_digest
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import AtRestCipher, keyed_hash
from kiosk.crypto.envelope import sealer_from_config
from kiosk.services.ports import FaceCheckResult
from kiosk.services.registration import DeviceInfo, RegistrationService
from kiosk.store.outbox import OutboxRepository
from kiosk.store.registrations import RegistrationRepository
from kiosk.uplink.family_query import PortalFamilyQuery, attach
from kiosk.uplink.service import Uplink, build_uplink
from portal.references import make_signing_key
from tests.fixtures.mqtt import Pki, Portal, install_portal_signing_key, wait_for
from tests.fixtures.records import open_db

pytestmark = pytest.mark.broker

KK = "3510011501200003"
HUSBAND, WIFE = "3510010501800001", "3510014507850002"


class Verified:
    """A face check that matched (the camera is not what this test is about)."""

    def check(self, nik: str) -> FaceCheckResult:
        return FaceCheckResult(Outcome.VERIFIED, b"\0" * 512, "village_set", "HIGH", "live", None)


@dataclass
class Kiosk:
    cfg: KioskConfig
    uplink: Uplink
    repo: RegistrationRepository
    families: PortalFamilyQuery
    registration: RegistrationService

    @property
    def lookup_key(self) -> bytes:
        return self.cfg.device.id.encode().ljust(32, b"-")  # each kiosk its own key

    def record_of(self, nik: str) -> str:
        """The record id of the newest version this kiosk committed for ``nik``."""
        return self.repo.by_nik(keyed_hash(self.lookup_key, "nik", nik))[0].record_id

    def card_asked(self, nik: str) -> tuple[str, Any]:
        """A new visit by ``nik`` (identified, face matched) up to the No. KK answered: its
        session token and what the family card check found."""
        reg = self.registration
        token = reg.start()
        reg.identify(token, nik)
        reg.check_face(token)
        return token, reg.family_card(token, KK)

    def submit(self, token: str, nik: str, members: int) -> str:
        """The rest of ``nik``'s visit: ``members`` in the household, consent, submit; the
        record id."""
        reg = self.registration
        reg.household(token, {"kk_number": KK, "members_count": members})
        reg.consent(token, True)
        reg.submit(token)
        return self.record_of(nik)

    def register(self, nik: str, members: int) -> str:
        """A whole registration answering the No. KK; its record id."""
        token, _found = self.card_asked(nik)
        return self.submit(token, nik, members)


def build(cfg: KioskConfig, tmp_path: Path) -> Kiosk:
    clock = SystemClock()
    uplink = build_uplink(cfg, clock)
    conn = open_db(cfg)
    repo = RegistrationRepository(conn, OutboxRepository(conn, on_commit=uplink.notify))
    sealer = sealer_from_config(cfg)
    families = PortalFamilyQuery(uplink, sealer, device_id=cfg.device.id, clock=clock)
    attach(uplink, families)
    services = build_services(
        cfg,
        ServiceParts(
            clock=clock,
            verifier=Verified(),  # type: ignore[arg-type]
            sealer=sealer,
            cipher=AtRestCipher(b"k" * 32),
            lookup_key=cfg.device.id.encode().ljust(32, b"-"),  # as Kiosk.lookup_key
            repo=repo,
            device=DeviceInfo(cfg.device.id, cfg.device.village_code, "0.1.0", "boot"),
            data_dir=tmp_path,
            families=families,
        ),
    )
    return Kiosk(cfg, uplink, repo, families, services.registration)


@contextlib.contextmanager
def kiosks_online(
    kiosk_config: Any,
    pki: Pki,
    tmp_path: Path,
    enroll: Callable[[KioskConfig], object],
    ids: tuple[str, str] = ("kiosk-a-01", "kiosk-b-01"),
) -> Iterator[tuple[Kiosk, Kiosk]]:
    """Kiosks A and B (device ``ids``), each ``enroll``ed at the portal and trusting its
    signing key, started and online; stopped after."""
    sides: list[Kiosk] = []
    try:
        for device_id in ids:
            cfg = kiosk_config(device_id)
            enroll(cfg)
            install_portal_signing_key(cfg, pki)
            side = build(cfg, tmp_path / device_id)
            side.uplink.start()
            sides.append(side)
        for side in sides:
            wait_for(lambda s=side: s.uplink.online, 15, "kiosk online")
        yield sides[0], sides[1]
    finally:
        for side in sides:
            side.uplink.stop()


@pytest.fixture
def two_kiosks(portal: Portal, kiosk_config: Any, pki: Pki, tmp_path: Path) -> Any:
    with kiosks_online(kiosk_config, pki, tmp_path, portal.enroll) as (a, b):
        yield a, b, portal


def test_a_card_registered_at_another_kiosk_is_flagged_and_updated(two_kiosks: Any) -> None:
    a, b, portal = two_kiosks
    assert portal.rx is not None
    first = a.register(HUSBAND, 3)
    wait_for(lambda: a.repo.delivery(first) == "acked", 20, "A's registration acked")

    token, found = b.card_asked(WIFE)
    assert found is not None and found.source == "portal", "known at the portal"
    assert (found.registration_id, found.version, found.members_count) == (first, 1, 3)
    assert found.receipt_no == "", "another person's receipt code never reaches B"
    assert b.registration.view(token).family_check == "portal"
    update = b.submit(token, WIFE, 4)
    wait_for(lambda: b.repo.delivery(update) == "acked", 20, "B's update acked")
    stored = portal.rx.store.get("kiosk-b-01", update)
    assert stored is not None
    assert stored["registration"] == {"id": first, "version": 2, "same_family_card": True}

    # the next question about the card finds the newest version, whichever kiosk sent it
    _token, again = b.card_asked("3510015208900002")
    assert again is not None and again.version == 2  # B holds v2 itself: found here
    answer = b.families.ask(kk_digest(KK))
    assert answer is not None and answer.registration is not None
    assert (answer.registration.registration_id, answer.registration.version) == (first, 2)
    assert b.families.ask(kk_digest("3510011501200004")) == type(answer)(None), "not known"


def test_the_request_carries_the_digest_only(two_kiosks: Any, monkeypatch: Any) -> None:
    _a, b, _portal = two_kiosks
    sent: list[dict[str, Any]] = []
    real = b.families.requests._sealer.seal

    def spy(kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        sent.append(record)
        return real(kind, record_id, record)

    monkeypatch.setattr(b.families.requests._sealer, "seal", spy)
    assert b.families.ask(kk_digest(KK)) is not None
    assert sent and KK not in json.dumps(sent) and sent[0]["kk_digest"] == kk_digest(KK)


def test_forged_no_answer_and_offline_mean_this_kiosk_only(two_kiosks: Any, tmp_path: Path) -> None:
    a, b, portal = two_kiosks
    assert portal.rx is not None
    first = a.register(HUSBAND, 3)
    wait_for(lambda: a.repo.delivery(first) == "acked", 20, "A's registration acked")
    reg = b.registration

    def ask_b() -> tuple[Any, str | None, float]:
        token = reg.start()
        reg.identify(token, WIFE)
        reg.check_face(token)
        started = time.monotonic()
        found = reg.family_card(token, KK)
        took = time.monotonic() - started
        check = reg.view(token).family_check
        reg.end(token, "done")
        return found, check, took

    # the portal answers with a key B does not trust: refused, checked at B only
    rogue, _ = make_signing_key(tmp_path / "rogue")
    genuine = portal.rx.family_desk._key
    portal.rx.family_desk._key = rogue
    b.families.requests.timeout_s = 1.5
    found, check, _took = ask_b()
    assert (found, check) == (None, "kiosk")
    assert b.uplink.inbound_report().get("unknown_key", 0) >= 1
    portal.rx.family_desk._key = genuine

    # an unsigned "known" on B's reply topic changes nothing
    portal.send_unsigned(
        b.uplink, f"perlinsos/v1/kiosk/{b.cfg.device.id}/kk_reply", b'{"v":1,"result":"known"}'
    )

    # the portal over its per-kiosk limit: refused, checked at B only
    portal.rx.query_limit.per_window = 0
    assert ask_b()[:2] == (None, "kiosk")
    portal.rx.query_limit.per_window = 60

    # no link: no wait at all, this kiosk only
    portal.stop()
    b.uplink.stop()
    found, check, took = ask_b()
    assert (found, check) == (None, "kiosk") and took < 1.0
