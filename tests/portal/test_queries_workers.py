"""The shared query limit over the real broker: two ingest workers on one MQTT 5 shared
subscription and one PostgreSQL, each with its own limit object over the database's count (as
``python -m portal.ingest.worker`` builds them), answer a kiosk's status queries in turn; the
kiosk gets the limit once in all, then signed refusals (it shows its own record), not the limit
once per worker."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.portal_status import nik_digest
from kiosk.crypto.keys import load_signing_private_key
from portal.ingest.worker import pg_services
from portal.intake import KindService, Opened, Outgoing
from portal.queries import QueryLimit, open_counters
from portal.status_book import open_book
from portal.status_desk import StatusDesk
from tests.fixtures.mqtt import Broker, Pki, Portal, wait_for
from tests.fixtures.status_kiosk import NIK, start_kiosks
from tests.fixtures.workers import pg_worker

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

LIMIT = 3
ASKED = 8


def test_two_workers_answer_a_kiosk_within_one_shared_limit(
    broker: Broker,
    pki: Pki,
    kiosk_config: Any,
    pg_dsn: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    enrolment = Portal(broker, pki, tmp_path / "portal")  # its key directory only: not started
    signing = load_signing_private_key(pki.signing_private)
    frozen = time.time()  # one window for the whole test, whatever the wall clock does
    answered = [0, 0]

    def counted(i: int, service: KindService) -> KindService:
        def serve(kind: str, items: list[Opened]) -> list[Outgoing]:
            out = service(kind, items)
            if kind == "status_request":
                answered[i] += len(out)
            return out

        return serve

    limits, desks, workers = [], [], []
    for i in range(2):
        counters = open_counters("postgres", pg_dsn)
        limit = QueryLimit(counters, per_window=LIMIT, clock=lambda: frozen)
        desk = StatusDesk(open_book("postgres", pg_dsn), signing, limit=limit)
        family = pg_services("postgres", pg_dsn, signing, limit)
        assert family["family"].__self__.limit is limit  # type: ignore[attr-defined]
        limits.append(limit)
        desks.append(desk)
        services = {"status": counted(i, desk.service), **family}
        workers.append(
            pg_worker(broker, pki, pg_dsn, enrolment.keys_dir, f"ingest-{i}", services=services)
        )
    sides = []
    try:
        for w in workers:
            w.start()
            wait_for(w.connected.is_set, 10, "worker connected (SUBACK)")
        sides = start_kiosks(enrolment, kiosk_config, pki, "kiosk-a-01")
        (a,) = sides
        receipt, record_id = a.register()
        wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

        caplog.set_level(logging.WARNING, logger="kiosk.uplink.status_query")
        answers = [a.query.ask(nik_digest(NIK), receipt) for _ in range(ASKED)]
        assert [x is not None and x.result for x in answers] == ["found"] * LIMIT + [False] * (
            ASKED - LIMIT
        )

        def refusals() -> int:  # the kiosk logs each after it has handed the answer over
            return sum("portal refused a status query" in r.message for r in caplog.records)

        wait_for(lambda: refusals() >= ASKED - LIMIT, 5, "each was a signed refusal")
        assert refusals() == ASKED - LIMIT, "each was a signed refusal, not a time-out"
        assert sum(answered) == ASKED and all(answered), answered  # both workers answered
    finally:
        for side in sides:
            side.uplink.stop()
        for w in workers:
            w.stop()
        for d in desks:
            d.close()
        for limit in limits:
            limit.close()
