"""The status push on a real PostgreSQL, through a recording link (the broker's side is tested
over real mosquitto in tests/uplink/test_status_push_e2e.py): a decision is queued in its own
transaction, sent signed as the kiosk verifies it, deleted only after an accepted PUBACK and
retried with back-off otherwise, held while its kiosk is offline, replaced by a newer decision,
claimed by one of two pushers, and decisions from before the migration are queued by it."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import ProtocolError
from kiosk.uplink.client import Inbound
from kiosk.uplink.inbound import StatusUpdate, decode
from portal.ingest.migrate import MIGRATIONS, migrate
from portal.ingest.store import Batch, Beat, open_store
from portal.status_book import open_book
from portal.status_desk import StatusDesk
from portal.status_push import BACKOFF_FIRST_S, CHANNEL, StatusPusher, backoff_s, pending
from portal.store import Incoming
from tests.fixtures.mqtt import wait_for
from tests.fixtures.postgres import PgServer

pytestmark = pytest.mark.postgres

T0 = 1_780_000_000.0
DEVICE = "kiosk-a-01"
PREFIX = "perlinsos/v1"


def rid(i: int) -> str:
    return f"0193a0a0-0000-7000-8000-{i:012x}"


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


class RecordingLink:
    """The pusher's view of a broker link: records each publish; ``answer`` is what every
    PUBACK says (True accepted, False refused, None none in time)."""

    def __init__(self, answer: bool | None = True) -> None:
        self.connected = threading.Event()
        self.connected.set()
        self.answer = answer
        self.sent: list[tuple[str, bytes]] = []

    def publish(
        self, topic: str, payload: bytes, *, correlation: bytes | None = None, retain: bool = False
    ) -> int:
        assert not retain and correlation is None
        self.sent.append((topic, payload))
        return len(self.sent)

    def puback(self, sent: Any, timeout_s: float) -> bool | None:
        return self.answer


class Portal:
    """One database: the ingest store holding registrations, an officer's desk over it."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.key = Ed25519PrivateKey.generate()
        self.clock = Clock()
        self.store = open_store("postgres", dsn)
        self.desk = StatusDesk(open_book("postgres", dsn), self.key, clock=self.clock)
        self.pushers: list[StatusPusher] = []

    def hold(self, *ids: str, device: str = DEVICE) -> None:
        b = Batch(T0)
        for i in ids:
            assert b.add(Incoming(device, i, "registration", {"nik": "x", "receipt_no": i})) is None
        self.store.write(b)

    def seen(self, state: str, at: float, device: str = DEVICE) -> None:
        """The kiosk's availability message, stored as the intake stores it."""
        b = Batch(at)
        b.availability[device] = (state, at)
        self.store.write(b)

    def pusher(self, link: RecordingLink, batch: int = 100) -> StatusPusher:
        p = StatusPusher(self.dsn, link, self.key, prefix=PREFIX, batch=batch, clock=self.clock)
        self.pushers.append(p)
        return p

    def queued(self) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return list(
                conn.execute(
                    "SELECT record_id, status, attempts, next_at FROM status_push"
                    " ORDER BY record_id"
                )
            )

    def close(self) -> None:
        for p in self.pushers:
            p.stop()
        self.desk.close()
        self.store.close()


@pytest.fixture
def portal(pg_dsn: str) -> Iterator[Portal]:
    p = Portal(pg_dsn)
    yield p
    p.close()


def as_kiosk(portal: Portal, topic: str, payload: bytes, device: str = DEVICE) -> StatusUpdate:
    """The message as the kiosk's uplink decodes it (signature, schema, its own topic)."""
    msg = decode(PREFIX, device, Inbound(topic, payload, None), lambda: [portal.key.public_key()])
    assert isinstance(msg, StatusUpdate)
    return msg


def test_a_decision_is_sent_signed_and_deleted_after_the_puback(portal: Portal) -> None:
    portal.hold(rid(1))
    assert portal.desk.decided(DEVICE, rid(1), "not_eligible", "penghasilan di atas batas", T0)
    assert portal.queued() == [(rid(1), "not_eligible", 0, 0.0)]
    link = RecordingLink()
    assert portal.pusher(link).drain() == 1
    [(topic, payload)] = link.sent
    assert topic == f"{PREFIX}/kiosk/{DEVICE}/status"
    update = as_kiosk(portal, topic, payload)
    assert (update.record_id, update.status, update.reason, update.at) == (
        rid(1),
        "not_eligible",
        "penghasilan di atas batas",
        T0,
    )
    assert portal.queued() == []
    with pytest.raises(ProtocolError, match="wrong_device"):  # for kiosk A only
        as_kiosk(portal, topic.replace(DEVICE, "kiosk-b-01"), payload, device="kiosk-b-01")


def test_without_an_accepted_puback_it_is_kept_and_retried_with_back_off(portal: Portal) -> None:
    portal.hold(rid(1))
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    silent = RecordingLink(None)  # no PUBACK in time
    assert portal.pusher(silent).drain() == 0 and len(silent.sent) == 1
    assert portal.queued() == [(rid(1), "eligible", 1, T0 + BACKOFF_FIRST_S)]
    refusing = RecordingLink(False)  # a PUBACK refusing it (MQTT 5 reason code >= 0x80)
    assert portal.pusher(refusing).drain() == 0 and refusing.sent == []  # backing off
    portal.clock.t += BACKOFF_FIRST_S
    assert portal.pusher(refusing).drain() == 0 and len(refusing.sent) == 1
    [(_r, _s, attempts, next_at)] = portal.queued()
    assert attempts == 2 and next_at == portal.clock.t + backoff_s(1)
    accepting = RecordingLink()
    assert portal.pusher(accepting).drain() == 0 and accepting.sent == []  # not due yet
    portal.clock.t = next_at
    assert portal.pusher(accepting).drain() == 1 and len(accepting.sent) == 1
    assert portal.queued() == []
    assert backoff_s(1) == 2 * BACKOFF_FIRST_S and backoff_s(50) == 600.0


def test_a_kiosk_offline_is_not_sent_to_until_it_is_back(portal: Portal) -> None:
    """A kiosk holds no broker session while offline (clean start): a message then reaches
    nobody. Its pushes wait for its ``online``, which also ends a back-off at once."""
    portal.hold(rid(1), rid(2))
    portal.seen("offline", T0 - 60)
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    link = RecordingLink()
    assert portal.pusher(link).drain() == 0 and link.sent == []
    assert portal.queued() == [(rid(1), "eligible", 0, 0.0)]  # not even an attempt
    with psycopg.connect(portal.dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        portal.seen("online", T0 + 5)
        assert [n.channel for n in listener.notifies(timeout=10, stop_after=1)] == [CHANNEL]
    portal.clock.t = T0 + 6
    assert portal.pusher(link).drain() == 1 and len(link.sent) == 1

    portal.desk.decided(DEVICE, rid(2), "verified", None, T0 + 6)
    unheard = RecordingLink(False)  # e.g. MQTT 5 "no matching subscribers": it dropped meanwhile
    assert portal.pusher(unheard).drain() == 0
    assert portal.queued() == [(rid(2), "verified", 1, T0 + 6 + BACKOFF_FIRST_S)]
    portal.seen("online", T0 + 7)  # back before the back-off ends: due at once
    assert portal.pusher(link).drain() == 1 and portal.queued() == []


def test_a_heartbeat_after_a_late_last_will_counts_as_back(portal: Portal) -> None:
    """A cluster node that dies publishes its kiosks' last wills, possibly after a kiosk came
    back on another node: its next heartbeat outlives the stale ``offline``."""
    portal.hold(rid(1))
    portal.seen("online", T0 - 10)
    portal.seen("offline", T0)  # the late last will
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    link = RecordingLink()
    assert portal.pusher(link).drain() == 0
    b = Batch(T0 + 30)
    beat = {"device_id": DEVICE}
    b.heartbeats[DEVICE] = Beat(beat, json.dumps(beat), T0 + 30)
    portal.store.write(b)
    assert portal.pusher(link).drain() == 1


def test_the_officer_sees_what_has_not_reached_its_kiosk(
    portal: Portal, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.status_desk import main
    from tests.portal.test_status_desk import key_file

    portal.hold(rid(1))
    portal.hold(rid(2), device="kiosk-b-01")
    portal.seen("offline", T0, device="kiosk-b-01")
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    portal.desk.decided("kiosk-b-01", rid(2), "verified", None, T0 + 1)
    portal.pusher(RecordingLink(None)).drain()  # kiosk A: no PUBACK; kiosk B: not tried
    assert pending(portal.dsn, T0) == [
        (DEVICE, rid(1), "eligible", 1, f"retry in {BACKOFF_FIRST_S:.0f} s"),
        ("kiosk-b-01", rid(2), "verified", 0, "kiosk offline"),
    ]
    assert pending(portal.dsn, T0 + BACKOFF_FIRST_S)[0][4] == "due"
    pem = key_file(portal.key, tmp_path)
    assert main(["--dsn", portal.dsn, "--signing-key", str(pem), "pushes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        [DEVICE, rid(1), "eligible", "1"],
        ["kiosk-b-01", rid(2), "verified", "0"],
    ]
    sqlite = ["--db", str(tmp_path / "p.sqlite3"), "--signing-key", str(pem), "pushes"]
    assert main(sqlite) == 2  # the reference receiver sends at once: nothing waits there


def test_a_newer_decision_replaces_one_not_yet_sent(portal: Portal) -> None:
    portal.hold(rid(1))
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    portal.pusher(RecordingLink(None)).drain()  # tried once, no PUBACK: backing off
    portal.desk.decided(DEVICE, rid(1), "not_eligible", "data tidak lengkap", T0 + 60)
    assert portal.queued() == [(rid(1), "not_eligible", 0, 0.0)]  # due at once again
    link = RecordingLink()
    assert portal.pusher(link).drain() == 1
    update = as_kiosk(portal, *link.sent[0])
    assert (update.status, update.reason, update.at) == (
        "not_eligible",
        "data tidak lengkap",
        T0 + 60,
    )


def test_no_push_for_a_registration_the_portal_does_not_hold(portal: Portal) -> None:
    assert not portal.desk.decided(DEVICE, rid(9), "eligible", None, T0)
    portal.hold(rid(9), device="kiosk-b-01")
    assert not portal.desk.decided(DEVICE, rid(9), "eligible", None, T0)  # another kiosk's
    assert portal.queued() == []
    with pytest.raises(ValueError, match="reason"):
        portal.desk.decided("kiosk-b-01", rid(9), "not_eligible", None, T0)


def test_a_row_the_status_schema_refuses_is_dropped_not_retried_forever(portal: Portal) -> None:
    with psycopg.connect(portal.dsn) as conn:  # e.g. queued by migration 0005 from an old row
        conn.execute(
            "INSERT INTO status_push (device_id, record_id, status, reason, at)"
            " VALUES (%s, 'not-a-record-id', 'eligible', NULL, %s)",
            (DEVICE, T0),
        )
    portal.hold(rid(1))
    portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
    link = RecordingLink()
    pusher = portal.pusher(link)
    assert pusher.drain() == 1
    assert pusher.counts.unsendable == 1 and len(link.sent) == 1
    assert portal.queued() == []


def test_two_pushers_at_once_send_each_decision_exactly_once(portal: Portal) -> None:
    ids = [rid(i) for i in range(1, 301)]
    portal.hold(*ids)
    for i in ids:
        portal.desk.decided(DEVICE, i, "verified", None, T0)
    links = [RecordingLink(), RecordingLink()]
    pushers = [portal.pusher(link, batch=10) for link in links]
    start = threading.Barrier(2)

    def run(p: StatusPusher) -> None:
        start.wait()
        while p.drain():
            pass

    threads = [threading.Thread(target=run, args=(p,)) for p in pushers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = [[as_kiosk(portal, *s).record_id for s in link.sent] for link in links]
    assert sorted(got[0] + got[1]) == ids  # every one, none twice
    assert sum(p.counts.published for p in pushers) == len(ids)
    assert portal.queued() == []


def test_the_migration_queues_the_decisions_recorded_before_it(pg_dsn: str, tmp_path: Path) -> None:
    """A portal upgraded from migration 0004: its decisions had reached the kiosks only in
    status answers; 0005 queues each once."""
    old = tmp_path / "migrations"
    old.mkdir()
    for path in sorted(MIGRATIONS.glob("000[1-4]_*.sql")):
        shutil.copy(path, old / path.name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        migrate(conn, old)
        conn.execute(
            "INSERT INTO registration_decision VALUES (%s, %s, 'eligible', NULL, %s),"
            " (%s, %s, 'verified', NULL, NULL)",
            (DEVICE, rid(1), T0, DEVICE, rid(2)),
        )
        assert "0005_status_push" in migrate(conn)
        rows = sorted(conn.execute("SELECT record_id, status, at FROM status_push"))
    assert [(r, s) for r, s, _at in rows] == [(rid(1), "eligible"), (rid(2), "verified")]
    assert rows[0][2] == T0 and rows[1][2] > T0 - 10**9  # no decision time: the migration's


def test_the_push_thread_survives_a_database_restart() -> None:
    """The worker's push thread reconnects (with back-off) when PostgreSQL restarts under it
    and sends what was decided meanwhile."""
    own = PgServer()  # a server of its own, to stop under the pusher
    own.start()
    try:
        portal = Portal(own.dsn)
        try:
            link = RecordingLink()
            portal.pusher(link).start()
            portal.hold(rid(1), rid(2))
            portal.desk.decided(DEVICE, rid(1), "eligible", None, T0)
            wait_for(lambda: len(link.sent) == 1, 20, "pushed by the thread")
            own.stop()
            own.start()
            officer = StatusDesk(open_book("postgres", own.dsn), portal.key)  # a new session
            try:
                officer.decided(DEVICE, rid(2), "verified", None, T0)
            finally:
                officer.close()
            wait_for(lambda: len(link.sent) == 2, 30, "pushed after the restart")
            assert as_kiosk(portal, *link.sent[1]).record_id == rid(2)
        finally:
            portal.close()
    finally:
        own.remove()
