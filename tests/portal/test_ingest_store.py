"""The ingest store interface on both backends (SQLite file, real PostgreSQL), and migrations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from portal.ingest.migrate import migrate, migrations
from portal.ingest.store import BACKENDS, Batch, Beat, IngestStore, open_store
from portal.store import Incoming

RID = "01930000-0000-7000-8000-0000000000{:02d}"


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IngestStore]:
    """Each backend behind the one interface."""
    if request.param == "postgres":
        target = request.getfixturevalue("pg_dsn")
    else:
        target = str(tmp_path / "portal.sqlite3")
    s = open_store(request.param, target)
    yield s
    s.close()


def batch(now: float, *records: Incoming, **parts: object) -> Batch:
    """A batch holding ``records`` (added the way the worker adds them)."""
    b = Batch(now, **parts)  # type: ignore[arg-type]
    for r in records:
        assert b.add(r) is None
    return b


def beat(device_id: str, monotonic: float, boot: str = "b") -> Beat:
    msg = {"device_id": device_id, "clock": {"monotonic": monotonic, "boot_id": boot}}
    return Beat(msg, json.dumps(msg), 0.0)


def test_insert_if_absent_across_batches_and_within_one(store: IngestStore) -> None:
    a = Incoming("kiosk-a", RID.format(1), "registration", {"x": 1})
    b = Incoming("kiosk-b", RID.format(1), "registration", {"x": 2})  # same id, other device
    assert store.write(batch(10.0, a)) == [True]
    assert store.write(batch(11.0, a, b, b)) == [False, True, False]
    assert sorted(store.record_ids()) == [RID.format(1)] * 2
    assert store.record_ids("kiosk-b") == [RID.format(1)]


def test_heartbeats_latest_wins_and_refusals_kept(store: IngestStore) -> None:
    store.write(Batch(1.0, heartbeats={"k": Beat(beat("k", 5).message, beat("k", 5).text, 1.0)}))
    b2 = beat("k", 9)
    store.write(
        Batch(
            2.0,
            heartbeats={"k": Beat(b2.message, b2.text, 2.0)},
            availability={"k": ("online", 2.0)},
            rejections=[("k", None, "bad signature", 2.0), ("k", RID.format(3), "kind", 2.0)],
        )
    )
    assert store.latest_heartbeat("k") == b2.message
    assert store.latest_heartbeat("other") is None
    assert store.rejections() == [("k", None, "bad signature"), ("k", RID.format(3), "kind")]


def test_record_time_corrected_from_the_same_boot_heartbeat(store: IngestStore) -> None:
    hb = beat("k", 50.0)
    store.write(Batch(1000.0, heartbeats={"k": Beat(hb.message, hb.text, 1000.0)}))
    clock = {"wall": 3.0, "monotonic": 40.0, "boot_id": "b", "synced": False}
    store.write(batch(1001.0, Incoming("k", RID.format(1), "registration", {"clock": clock})))
    assert created_at(store) == pytest.approx(990.0)


def created_at(store: IngestStore) -> float:
    """The one stored record's created_at, read with the backend's own connection."""
    conn = store._conn if hasattr(store, "_conn") else store._store._conn  # type: ignore[attr-defined]
    return float(conn.execute("SELECT created_at FROM record").fetchone()[0])


def test_text_no_database_can_hold_is_refused_before_the_write() -> None:
    b = Batch(1.0)
    assert "NUL" in (b.add(Incoming("k", RID.format(1), "registration", {"n": "a\x00"})) or "")
    lone = Incoming("k", RID.format(2), "registration", {"n": "\ud800"})
    assert "surrogate" in (b.add(lone) or "")
    assert b.add(Incoming("k", RID.format(3), "registration", {"n": "\\u0000 is fine"})) is None
    assert [r.record_id for r in b.records] == [RID.format(3)]


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown portal store 'mysql'.*postgres, sqlite"):
        open_store("mysql", "x")


def test_migrations_apply_once_and_record_their_version(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn) == [m.name for m in migrations()]
        assert migrate(conn) == []
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migration")]
    assert versions == [m.version for m in migrations()]


def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="0003_c should be number 0002"):
        migrations(tmp_path)
    (tmp_path / "0003_c.sql").rename(tmp_path / "3_c.sql")
    with pytest.raises(ValueError, match=r"not named NNNN_name\.sql"):
        migrations(tmp_path)


def test_failed_batch_commits_nothing(pg_dsn: str) -> None:
    store = open_store("postgres", pg_dsn)
    try:
        good = Incoming("k", RID.format(1), "registration", {"x": 1})
        bad = Batch(1.0, availability={"k": ("online", 1.0)})
        bad.add(good)
        bad.records.append(Incoming("k", RID.format(2), "registration", {}))
        bad.texts.append('{"x": "\\u0000"}')  # what jsonb refuses, past the worker's check
        with pytest.raises(psycopg.Error):
            store.write(bad)
        assert store.record_ids() == []
        assert store.write(batch(2.0, good)) == [True]  # the connection is usable
    finally:
        store.close()
