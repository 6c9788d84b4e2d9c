"""The dashboard's read queries against real PostgreSQL, compared with what was seeded through
the ingest store; junk in records never breaks a page; objections and device placement."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import psycopg
import pytest
from conftest import NOW

from portal.dashboard import queries
from portal.dashboard.areas import Area
from portal.dashboard.demo import SMALL_VILLAGE, Seeded, registration
from portal.dashboard.health import problems
from portal.ingest.postgres import PostgresIngestStore
from portal.ingest.store import Batch
from portal.store import Incoming

pytestmark = pytest.mark.postgres

NOVEMBER = queries.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def expected(regs: list[dict[str, Any]], prefix: str) -> dict[str, int]:
    """The figures of ``prefix`` computed from the seeded records themselves."""
    mine = [r for r in regs if r["village_code"].startswith(prefix)]
    v = [r["verification"] for r in mine]
    return {
        "new": len(mine),
        "verified": sum(x["outcome"] == "verified" for x in v),
        "pending": sum(x["outcome"] == "pending" for x in v),
        "vouched": sum(x["outcome"] == "vouched" for x in v),
        "assisted": sum(x["assisted_by"] is not None for x in v),
        "attempts": sum(x["attempts"] for x in v),
        "failed": sum(x["attempts"] - (x["outcome"] != "vouched") for x in v),
    }


def report(dsn: str, code: str, period: queries.Period = NOVEMBER) -> queries.Report:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return queries.report(conn, Area(code), period, NOW)


@pytest.mark.parametrize("code", ["3510", "351001", "351002", "3510012003", SMALL_VILLAGE])
def test_figures_match_the_seeded_records(seeded: tuple[str, Seeded], code: str) -> None:
    dsn, data = seeded
    r = report(dsn, code)
    want = expected(data.registrations, code)
    t = r.totals
    got = {
        "new": t.new,
        "verified": t.outcomes.get("verified", 0),
        "pending": t.outcomes.get("pending", 0),
        "vouched": t.outcomes.get("vouched", 0),
        "assisted": t.assisted,
        "attempts": t.attempts,
        "failed": t.failed,
    }
    assert got == want and want["new"] > 0
    assert t.spoofs == sum(n for v, n in data.spoofs.items() if v.startswith(code))
    assert sum(n for _, n in r.daily) == t.new and len(r.daily) == 30
    assert t.objection_total == 0  # no objection records yet


def test_children_are_one_level_down_and_named(seeded: tuple[str, Seeded]) -> None:
    dsn, _ = seeded
    r = report(dsn, "3510")
    assert list(r.children) == ["351001", "351002", "351003"]
    assert r.names["351001"] == "Pesisir"
    assert list(report(dsn, "351002").children) == ["3510022001", "3510022002"]
    assert report(dsn, "3510012001").children == {}


def test_period_counts_only_its_days(seeded: tuple[str, Seeded]) -> None:
    dsn, data = seeded
    one = queries.Period(dt.date(2026, 11, 20), dt.date(2026, 11, 20))
    lo, hi = one.bounds()
    want = sum(1 for r in data.registrations if lo <= r["clock"]["wall"] < hi)
    assert report(dsn, "3510", one).totals.new == want
    assert report(dsn, "3510", one).daily == [(dt.date(2026, 11, 20), want)]


def test_kiosks_are_placed_by_registry_or_by_their_records(seeded: tuple[str, Seeded]) -> None:
    dsn, data = seeded
    with psycopg.connect(dsn, autocommit=True) as conn:
        kiosks = queries.kiosks_in(conn, Area("3510"), NOW)
        placed = {k.device_id: k.village for k in kiosks}
        assert placed == data.kiosks  # half from the device table, half from their records
        conn.execute(
            "INSERT INTO device (device_id, village_code) VALUES ('kiosk-3510012002-01',"
            " '3510032002')"
        )  # the operator moved it: the registry wins over the records
        moved = {k.device_id: k.village for k in queries.kiosks_in(conn, Area("351003"), NOW)}
        conn.execute("DELETE FROM device WHERE device_id = 'kiosk-3510012002-01'")
    assert moved["kiosk-3510012002-01"] == "3510032002"
    keys = {k.device_id: [p.key for p in problems(k, NOW)] for k in kiosks}
    assert keys["kiosk-3510012001-01"] == []
    assert keys["kiosk-3510012002-01"] == ["backlog"]
    assert keys["kiosk-3510012003-01"] == ["stale"]
    assert keys["kiosk-3510022001-01"] == ["hot"]
    assert keys["kiosk-3510022002-01"] == ["disk"]
    assert keys["kiosk-3510032001-01"] == ["clock"]


def test_junk_in_records_never_breaks_the_figures(fresh: tuple[str, Seeded]) -> None:
    dsn, _ = fresh
    before = report(dsn, "3510").totals
    store = PostgresIngestStore(dsn)
    try:
        b = Batch(NOW)
        at = NOW - 5 * 86400
        junks: list[dict[str, Any]] = [
            {"verification": "x", "registration": {"version": "abc"}},
            {"verification": {"attempts": "tiga", "outcome": 7, "assisted_by": 5}},
            {"verification": {"attempts": 1e30, "outcome": "verified"}},
            {"verification": {"attempts": -4, "outcome": "verified"}},
        ]
        for i, junk in enumerate(junks):
            rec = registration(
                random.Random(i), "kiosk-x", "3510012001", at, "0", "verified",
                False, 1,
            ).record  # fmt: skip
            rec.update(junk)
            b.add(Incoming("kiosk-x", f"junk-{i}", "registration", rec))
        for bad_code in ("35100120019", "abc", None):  # not a village code: counted nowhere
            rec = registration(
                random.Random(9), "kiosk-x", "3510012001", at, "0", "verified",
                False, 1,
            ).record  # fmt: skip
            rec["village_code"] = bad_code
            b.add(Incoming("kiosk-x", f"bad-{bad_code}", "registration", rec))
        b.add(Incoming("kiosk-x", "audit-junk", "audit", {"entries": [5, [1], [1, "t", 2]]}))
        b.add(Incoming("kiosk-x", "audit-junk2", "audit", {"entries": "spoof_suspected"}))
        store.write(b)
    finally:
        store.close()
    after = report(dsn, "3510").totals
    assert after.new == before.new + 4
    assert after.outcomes.get("other", 0) == 2  # 'verification' not an object, outcome 7
    assert after.attempts == before.attempts + 100  # 1e30 capped at 100; "tiga", -4, "x" as 0
    assert after.failed == before.failed + 99
    assert after.spoofs == before.spoofs


def test_objections_counted_by_state_and_area(fresh: tuple[str, Seeded]) -> None:
    """The state is the status desk's (objection_state); a state a kiosk writes into its own
    record counts for nothing, and an objection the desk has not checked yet is received."""
    from portal.status_book import ObjectionRow
    from portal.status_pg import PostgresStatusBook

    dsn, _ = fresh
    filed = {"clock": {"wall": NOW - 3 * 86400, "monotonic": 1.0, "boot_id": "b", "synced": True}}
    store = PostgresIngestStore(dsn)
    try:
        b = Batch(NOW)
        b.add(Incoming("kiosk-3510012001-01", "o1", "objection", filed))
        b.add(Incoming("kiosk-3510012001-01", "o2", "objection", {**filed, "state": "upheld"}))
        b.add(Incoming("kiosk-3510012003-01", "o3", "objection", filed))
        b.add(Incoming("kiosk-zzz", "o4", "objection", {**filed, "village_code": "3510022001"}))
        b.add(Incoming("kiosk-3510012001-01", "o5", "objection", {}))  # filed today: not November
        store.write(b)
    finally:
        store.close()
    book = PostgresStatusBook(dsn)
    try:
        for device_id, oid, state, why in (
            ("kiosk-3510012001-01", "o1", "received", None),
            ("kiosk-3510012003-01", "o3", "rejected", "filed after the objection window closed"),
            ("kiosk-zzz", "o4", "received", None),
        ):
            book.keep_objection(
                ObjectionRow(device_id, oid, "reg", "d" * 64, "other", NOW, "villager",
                             False, False, state, why, NOW)
            )  # fmt: skip
        assert book.move_objection("o4", "under_review", None, NOW)
    finally:
        book.close()
    assert report(dsn, "3510").totals.objections == {
        "received": 2, "rejected": 1, "under_review": 1,
    }  # fmt: skip
    r = report(dsn, "351001")
    assert r.children["3510012001"].objections == {"received": 2}  # o2's own "upheld" ignored
    assert r.children["3510012003"].objections == {"rejected": 1}
    assert report(dsn, "3510022001").totals.objections == {"under_review": 1}


def test_area_exists(seeded: tuple[str, Seeded]) -> None:
    with psycopg.connect(seeded[0], autocommit=True) as conn:
        assert queries.area_exists(conn, Area("3510"))
        assert queries.area_exists(conn, Area("3510032002"))
        assert not queries.area_exists(conn, Area("351099"))
        assert not queries.area_exists(conn, Area("3511"))
