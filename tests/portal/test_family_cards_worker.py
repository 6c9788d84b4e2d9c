"""The family card desk on the scale path: an ingest worker over a real PostgreSQL and mosquitto
answers ``kk_request`` from the records it stored (the expression index of migration 0004), so
a No. KK registered through one kiosk is flagged at another and becomes its update."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig
from kiosk.core.family_card import kk_digest
from kiosk.crypto.keys import (
    load_or_create_device_key,
    load_signing_private_key,
    public_pem,
)
from portal.ingest.worker import ingest_filters, pg_services
from tests.fixtures.mqtt import PREFIX, Broker, KioskFactory, Pki, wait_for
from tests.fixtures.workers import pg_worker
from tests.uplink.test_family_query_e2e import HUSBAND, KK, WIFE, Kiosk, kiosks_online

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def test_the_worker_subscribes_to_family_card_queries_only_with_the_service() -> None:
    assert not any(f.endswith("/kk_request") for f in ingest_filters(PREFIX, "ingest"))
    with_family = ingest_filters(PREFIX, "ingest", frozenset({"family"}))
    assert f"$share/ingest/{PREFIX}/kiosk/+/kk_request" in with_family
    assert pg_services("sqlite", "x.sqlite3", None) == {}  # type: ignore[arg-type]


@pytest.fixture
def fleet(
    broker: Broker, pki: Pki, pg_dsn: str, kiosk_config: KioskFactory, tmp_path: Path
) -> Iterator[tuple[Kiosk, Kiosk]]:
    keys = tmp_path / "device-keys"
    keys.mkdir()
    signing = load_signing_private_key(pki.signing_private)
    services = pg_services("postgres", pg_dsn, signing)
    worker = pg_worker(broker, pki, pg_dsn, keys, "ingest-1", services=services)
    worker.start()
    wait_for(worker.connected.is_set, 10, "worker connected")
    time.sleep(0.2)  # SUBACK

    def enroll(cfg: KioskConfig) -> None:
        key = load_or_create_device_key(cfg.paths.data_dir)
        (keys / f"{cfg.device.id}.pem").write_bytes(public_pem(key))

    try:
        ids = ("kiosk-pa-01", "kiosk-pb-01")
        with kiosks_online(kiosk_config, pki, tmp_path, enroll, ids) as sides:
            yield sides
    finally:
        worker.stop()


def test_a_card_stored_in_postgresql_is_flagged_at_another_kiosk(fleet: Any) -> None:
    a, b = fleet
    first = a.register(HUSBAND, 3)
    wait_for(lambda: a.repo.delivery(first) == "acked", 20, "A's registration stored in PG")
    token, found = b.card_asked(WIFE)
    assert found is not None and found.source == "portal"
    assert (found.registration_id, found.version, found.members_count) == (first, 1, 3)
    update = b.submit(token, WIFE, 4)
    wait_for(lambda: b.repo.delivery(update) == "acked", 20, "B's update stored in PG")
    answer = b.families.ask(kk_digest(KK))
    assert answer is not None and answer.registration is not None
    assert (answer.registration.registration_id, answer.registration.version) == (first, 2)
