"""The one per-kiosk query limit of the portal desks, on each backend (this process's memory and
the ingest workers' real PostgreSQL): counted per kiosk and desk, aligned windows rolling over
on an injected clock, ended windows pruned, a lagging clock held to the newer window; on
PostgreSQL two workers (own connections, in parallel) share one limit, and both desks refuse
with their own signed answer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.family_card import kk_digest
from kiosk.core.portal_status import nik_digest
from kiosk.uplink.replies import open_reply
from portal.family_cards import FamilyDesk, PostgresFamilyIndex
from portal.ingest.store import Batch, open_store
from portal.queries import COUNTERS, Counters, MemoryCounters, QueryLimit, open_counters
from portal.status_book import open_book
from portal.status_desk import StatusDesk
from portal.store import Incoming

WINDOW = 600.0
T0 = 1_780_000_200.0  # the start of a 600 s window
KIOSK, OTHER = "kiosk-b-01", "kiosk-c-01"


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(params=sorted(COUNTERS))
def counters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counters]:
    target = (
        request.getfixturevalue("pg_dsn")
        if request.param == "postgres"
        else str(tmp_path / "p.sqlite3")
    )
    c = open_counters(request.param, target)
    c.target = target  # type: ignore[attr-defined]
    yield c
    c.close()


def held(counters: Counters) -> int:
    """How many (desk, kiosk) counts the backend holds."""
    if isinstance(counters, MemoryCounters):
        return len(counters._counts)
    import psycopg

    with psycopg.connect(counters.target) as conn:  # type: ignore[attr-defined]
        row = conn.execute("SELECT count(*) FROM query_count").fetchone()
    assert row is not None
    return int(row[0])


def test_each_kiosk_and_desk_is_counted_apart_until_the_window_rolls_over(
    counters: Counters,
) -> None:
    clock = Clock(T0 + WINDOW - 1)  # the last second of a window
    limit = QueryLimit(counters, per_window=3, window_s=WINDOW, clock=clock)
    assert [limit.admit("status", KIOSK) for _ in range(4)] == [True, True, True, False]
    assert limit.admit("status", OTHER), "another kiosk is not held back"
    assert limit.admit("family", KIOSK), "another desk is counted apart"
    clock.t = T0 + WINDOW  # the next window: the count starts again
    assert [limit.admit("status", KIOSK) for _ in range(4)] == [True, True, True, False]
    clock.t = T0 + 2 * WINDOW - 0.001
    assert not limit.admit("status", KIOSK), "the whole window is one count"


def test_ended_windows_are_pruned_so_the_counts_stay_bounded(counters: Counters) -> None:
    clock = Clock()
    limit = QueryLimit(counters, per_window=5, window_s=WINDOW, clock=clock)
    for i in range(40):
        assert limit.admit("status", f"kiosk-{i:03d}")
    assert held(counters) == 40
    clock.t += WINDOW  # the first query of a new window prunes the ended one
    assert limit.admit("family", "kiosk-new")
    assert held(counters) == 1


def test_a_lagging_clock_counts_in_the_newer_window(counters: Counters) -> None:
    """Workers' clocks differ a little: a query stamped with the window just ended (a worker
    a second behind) is counted in the newer window, never resets it."""
    ahead = QueryLimit(counters, per_window=2, window_s=WINDOW, clock=Clock(T0 + 0.5))
    behind = QueryLimit(counters, per_window=2, window_s=WINDOW, clock=Clock(T0 - 0.5))
    assert ahead.admit("status", KIOSK)
    assert behind.admit("status", KIOSK)
    assert not behind.admit("status", KIOSK)
    assert not ahead.admit("status", KIOSK)


def test_a_flood_is_logged_once_per_kiosk_and_window(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(T0 + 100)
    limit = QueryLimit(per_window=1, window_s=WINDOW, clock=clock)
    with caplog.at_level(logging.WARNING, logger="portal.queries"):
        for _ in range(50):
            limit.admit("family", KIOSK)
        limit.admit("family", OTHER)
        limit.admit("family", OTHER)
        clock.t += WINDOW
        for _ in range(3):
            limit.admit("family", KIOSK)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"family queries from {KIOSK} over the limit: refused for the next 500 s",
        f"family queries from {OTHER} over the limit: refused for the next 500 s",
        f"family queries from {KIOSK} over the limit: refused for the next 500 s",
    ]


def test_a_limit_of_zero_refuses_and_nonsense_is_refused_at_start() -> None:
    limit = QueryLimit(per_window=0)
    assert not limit.admit("status", KIOSK)
    with pytest.raises(ValueError, match="0 or more"):
        QueryLimit(per_window=-1)
    with pytest.raises(ValueError, match="at least one second"):
        QueryLimit(window_s=0.0)
    with pytest.raises(ValueError, match="at least one second"):
        QueryLimit(window_s=float("nan"))
    with pytest.raises(ValueError, match=r"unknown query counter backend 'redis'.*postgres"):
        open_counters("redis", "x")


@pytest.mark.parametrize(
    ("option", "said"),
    [(["--queries-per-window", "-1"], "0 or more"), (["--query-window", "0.5"], "one second")],
)
def test_the_worker_command_refuses_a_nonsense_limit_before_it_starts(
    option: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal.ingest.worker import main

    missing = str(tmp_path / "missing.pem")  # refused before any key is read
    argv = ["--broker", "127.0.0.1:1", "--store", "sqlite", "--target", str(tmp_path / "p.db")]
    argv += ["--client-id", "c", "--private-key", missing, "--signing-key", missing]
    with pytest.raises(SystemExit) as err:
        main([*argv, "--device-keys", str(tmp_path), *option])
    assert err.value.code == 2 and said in capsys.readouterr().err


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_share_one_limit(pg_dsn: str) -> None:
    """Two workers' limits (own connections): asked in turn, the kiosk gets the limit once in
    total, not once per worker; taking at once from two threads, never more than the limit."""
    clock = Clock()
    limits = [
        QueryLimit(open_counters("postgres", pg_dsn), per_window=25, window_s=WINDOW, clock=clock)
        for _ in range(2)
    ]
    try:
        in_turn = [limits[i % 2].admit("status", KIOSK) for i in range(40)]
        assert in_turn == [True] * 25 + [False] * 15
        admitted = [0, 0]
        start = threading.Barrier(2)

        def ask(i: int) -> None:
            start.wait()
            for _ in range(40):
                admitted[i] += limits[i].admit("status", OTHER)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sum(admitted) == 25, admitted
        clock.t += WINDOW
        assert limits[1].admit("status", KIOSK) and limits[0].admit("status", KIOSK)
    finally:
        for limit in limits:
            limit.close()


@pytest.mark.postgres
def test_the_count_survives_a_lost_database_session(pg_dsn: str) -> None:
    """The server drops the session (restart, fail-over): the next query opens a new one and
    the count, kept in the table, goes on."""
    import psycopg

    counters = open_counters("postgres", pg_dsn)
    limit = QueryLimit(counters, per_window=2, window_s=WINDOW, clock=Clock())
    try:
        assert limit.admit("status", KIOSK)
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(psycopg.OperationalError):
            limit.admit("status", KIOSK)  # this query finds the session gone: not answered
        assert limit.admit("status", KIOSK)
        assert not limit.admit("status", KIOSK)
    finally:
        limit.close()


# --- both desks over the shared limit ------------------------------------------------------
NIK = "3510014507900001"
KK = "3510011501200003"
REG = "0193a0a0-0000-7000-8000-000000000001"
RECEIPT = "1234-5678-9012"


def _request(device: str = KIOSK, **asked: str) -> dict[str, Any]:
    """A status query (asked: nik_digest, receipt_no) or a family card query (kk_digest)."""
    request_id = "0193a0a0-0000-7000-8000-00000000aaaa"
    return {"v": 1, "request_id": request_id, "device_id": device, "requested_at": T0, **asked}


def _status_request(device: str = KIOSK) -> dict[str, Any]:
    return _request(device, nik_digest=nik_digest(NIK), receipt_no=RECEIPT)


def _kk_request() -> dict[str, Any]:
    return _request(kk_digest=kk_digest(KK))


@pytest.mark.postgres
def test_both_desks_of_two_workers_refuse_over_the_shared_limit_signed(pg_dsn: str) -> None:
    """Worker 1 and worker 2 each run both desks on one PostgreSQL, as the worker command does
    (one limit per worker for both desks): a kiosk asking them in turn gets ``per_window``
    answers per desk in all, then each desk's own signed refusal; a new window answers again."""
    store = open_store("postgres", pg_dsn)
    b = Batch(T0)
    record = {
        "nik": NIK,
        "receipt_no": RECEIPT,
        "registration": {"id": REG, "version": 1},
        "verification": {"outcome": "pending"},
        "answers": {"kk_number": KK, "members_count": 3},
    }
    assert b.add(Incoming("kiosk-a-01", REG, "registration", record)) is None
    store.write(b)
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    workers = []
    for _ in range(2):
        limit = QueryLimit(open_counters("postgres", pg_dsn), per_window=3, clock=clock)
        status = StatusDesk(open_book("postgres", pg_dsn), key, limit=limit, clock=clock)
        family = FamilyDesk(PostgresFamilyIndex(pg_dsn), key, limit=limit, clock=clock)
        workers.append((limit, status, family))

    def opened(kind: str, payload: bytes, device: str = KIOSK) -> dict[str, Any]:
        return open_reply(kind, device, payload, lambda: [key.public_key()])

    try:
        got = [
            opened("status_reply", workers[i % 2][1].answer(KIOSK, _status_request()))
            for i in range(5)
        ]
        assert [g["result"] for g in got] == ["found"] * 3 + ["refused"] * 2
        assert got[-1]["registrations"] == [] and got[-1]["objections"] == []
        kk = [opened("kk_reply", workers[i % 2][2].answer(KIOSK, _kk_request())) for i in range(4)]
        assert [k["result"] for k in kk] == ["known"] * 3 + ["refused"]
        assert kk[-1]["registration"] is None and kk[0]["registration"]["registration_id"] == REG
        other = workers[0][1].answer(OTHER, _status_request(OTHER))
        assert opened("status_reply", other, OTHER)["result"] == "found"
        clock.t += 600.0
        again = workers[1][1].answer(KIOSK, _status_request())
        assert opened("status_reply", again)["result"] == "found"
    finally:
        for limit, status, family in workers:
            status.close()
            family.index.close()  # type: ignore[attr-defined]
            limit.close()
        store.close()
