"""Decisions pushed to the kiosks on the PostgreSQL path, over a real mosquitto and a real
PostgreSQL: the officer's command decides, an ingest worker sends the signed ``status`` and the
kiosk shows it without asking; a decision taken while every worker is down is sent when one
starts; with two workers each decision goes out once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from kiosk.crypto.atrest import keyed_hash
from kiosk.crypto.keys import load_signing_private_key
from kiosk.uplink.inbound import StatusUpdate
from portal.ingest.worker import IngestWorker
from portal.status_book import open_book
from portal.status_desk import StatusDesk, main
from tests.fixtures.mqtt import Broker, Pki, Portal, wait_for
from tests.fixtures.postgres import pg_dsn, pg_server  # noqa: F401 (fixtures)
from tests.fixtures.status_kiosk import LOOKUP_KEY, NIK, Side, start_kiosks
from tests.fixtures.workers import pg_worker
from tests.portal.test_status_desk import key_file

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

Workers = Callable[[str], IngestWorker]


@pytest.fixture
def enrolment(broker: Broker, pki: Pki, tmp_path: Path) -> Portal:
    """The portal's device-key directory (the reference receiver itself is not started)."""
    return Portal(broker, pki, tmp_path / "portal")


@pytest.fixture
def workers(broker: Broker, pki: Pki, pg_dsn: str, enrolment: Portal) -> Iterator[Workers]:  # noqa: F811
    """Start ingest workers as the command line wires them on PostgreSQL: the status desk as
    their ``status`` service and the status push."""
    signing = load_signing_private_key(pki.signing_private)
    started: list[tuple[IngestWorker, StatusDesk]] = []

    def start(client_id: str) -> IngestWorker:
        desk = StatusDesk(open_book("postgres", pg_dsn), signing)
        w = pg_worker(
            broker,
            pki,
            pg_dsn,
            enrolment.keys_dir,
            client_id,
            services={"status": desk.service},
            status_push=pg_dsn,
        )
        w.start()
        wait_for(w.connected.is_set, 10, f"{client_id} connected")
        started.append((w, desk))
        return w

    yield start
    for w, desk in started:
        w.stop()  # a second stop of a stopped worker is harmless
        desk.close()


@pytest.fixture
def kiosk_a(enrolment: Portal, kiosk_config, pki: Pki) -> Iterator[Side]:
    [side] = start_kiosks(enrolment, kiosk_config, pki, "kiosk-a-01")
    yield side
    side.uplink.stop()


def kiosk_status(side: Side, record_id: str) -> tuple[str, str | None, float | None]:
    """(status, reason, portal's time) of one of the kiosk's own registrations."""
    [row] = [
        r for r in side.repo.by_nik(keyed_hash(LOOKUP_KEY, "nik", NIK)) if r.record_id == record_id
    ]
    return row.status, row.status_reason, row.status_at


def queued(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM status_push").fetchone()[0])


def availability(dsn: str, device_id: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT state FROM availability WHERE device_id = %s", (device_id,))
        found = row.fetchone()
    return None if found is None else str(found[0])


@pytest.fixture
def decide(pg_dsn: str, pki: Pki, tmp_path: Path) -> Callable[..., int]:  # noqa: F811
    """``python -m portal.status_desk --dsn DSN --signing-key K decision ...``: its exit code."""
    pem = key_file(load_signing_private_key(pki.signing_private), tmp_path)
    return lambda *args: main(["--dsn", pg_dsn, "--signing-key", str(pem), "decision", *args])


def acked(side: Side, nik: str = NIK) -> tuple[str, str]:
    """A registration at ``side`` once the portal holds it: (receipt code, record id)."""
    receipt, record_id = side.register(nik)
    wait_for(lambda: side.repo.delivery(record_id) == "acked", 20, "registration acked")
    return receipt, record_id


def test_an_officers_decision_reaches_the_kiosk_without_it_asking(
    workers: Workers,
    kiosk_a: Side,
    decide: Callable[..., int],
    pg_dsn: str,  # noqa: F811
) -> None:
    workers("ingest-1")
    pushed: list[StatusUpdate] = []
    kiosk_a.uplink.on_status(pushed.append)
    receipt, record_id = acked(kiosk_a)
    assert kiosk_status(kiosk_a, record_id)[0] == "received"

    device = kiosk_a.cfg.device.id
    assert decide(device, "0193a0a0-0000-7000-8000-0000000000ff", "eligible") == 1  # unknown
    assert decide(device, record_id, "not_eligible") == 2  # its reason is required
    before = time.time()
    reason = "penghasilan di atas batas"
    assert decide(device, record_id, "not_eligible", "--reason", reason) == 0
    wait_for(lambda: kiosk_status(kiosk_a, record_id)[0] == "not_eligible", 20, "status pushed")
    _status, got_reason, at = kiosk_status(kiosk_a, record_id)
    assert got_reason == reason and at is not None and at >= before - 1
    assert [(u.record_id, u.status) for u in pushed] == [(record_id, "not_eligible")]
    wait_for(lambda: queued(pg_dsn) == 0, 10, "push marked sent")

    # offline now: the kiosk's own status check shows the decision, no portal asked
    kiosk_a.uplink.stop()
    _t, view = kiosk_a.check(receipt)
    assert view.source == "kiosk"
    assert (view.records[0].status, view.records[0].status_reason) == ("not_eligible", reason)


def test_a_decision_taken_while_every_worker_is_down_is_sent_when_one_starts(
    workers: Workers,
    kiosk_a: Side,
    decide: Callable[..., int],
    pg_dsn: str,  # noqa: F811
) -> None:
    first = workers("ingest-1")
    _receipt, record_id = acked(kiosk_a)
    first.stop()

    assert decide(kiosk_a.cfg.device.id, record_id, "eligible") == 0
    assert queued(pg_dsn) == 1  # kept in PostgreSQL: no worker holds a broker connection
    assert kiosk_status(kiosk_a, record_id)[0] == "received"

    workers("ingest-2")  # a worker that was not running when the decision was taken
    wait_for(lambda: kiosk_status(kiosk_a, record_id)[0] == "eligible", 20, "status pushed")
    wait_for(lambda: queued(pg_dsn) == 0, 10, "push marked sent")


def test_a_kiosk_offline_while_deciding_gets_the_decision_when_it_is_back(
    workers: Workers,
    kiosk_a: Side,
    decide: Callable[..., int],
    pg_dsn: str,  # noqa: F811
) -> None:
    """The kiosk holds no broker session while offline: the push waits for its ``online``."""
    worker = workers("ingest-1")
    _receipt, record_id = acked(kiosk_a)
    kiosk_a.uplink.stop()  # says "offline" (retained) as it goes
    device = kiosk_a.cfg.device.id
    wait_for(lambda: availability(pg_dsn, device) == "offline", 10, "kiosk seen offline")
    assert decide(device, record_id, "eligible") == 0

    back = Side(kiosk_a.cfg)  # the same kiosk (its database) on a new connection
    try:
        back.uplink.start()
        wait_for(lambda: kiosk_status(back, record_id)[0] == "eligible", 20, "pushed on return")
    finally:
        back.uplink.stop()
    assert worker.pusher is not None and worker.pusher.counts.published == 1  # none into the void


def test_with_two_workers_each_decision_is_pushed_once(
    workers: Workers,
    kiosk_a: Side,
    pg_dsn: str,  # noqa: F811
    pki: Pki,
) -> None:
    both = [workers("ingest-1"), workers("ingest-2")]
    pushed: list[StatusUpdate] = []
    kiosk_a.uplink.on_status(pushed.append)
    niks = ("3510014507900011", "3510014507900012", "3510014507900013")
    ids = [acked(kiosk_a, nik)[1] for nik in niks]
    desk = StatusDesk(open_book("postgres", pg_dsn), load_signing_private_key(pki.signing_private))
    try:
        for i, record_id in enumerate(ids):
            assert desk.decided(kiosk_a.cfg.device.id, record_id, "verified", None, time.time() + i)
    finally:
        desk.close()
    wait_for(lambda: len(pushed) >= len(ids) and queued(pg_dsn) == 0, 20, "every status pushed")
    assert sorted(u.record_id for u in pushed) == sorted(ids)  # each once
    published = [w.pusher.counts.published for w in both if w.pusher is not None]
    assert sum(published) == len(ids)  # no second publish by the other worker either
