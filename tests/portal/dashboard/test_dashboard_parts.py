"""Dashboard parts without a database: area codes, periods, charts, health rules, small cells,
the address throttle and the official checks."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.dashboard import charts, present
from portal.dashboard.areas import Area, Level, parse_area, role_fits
from portal.dashboard.health import DISK_LOW_BYTES, STALE_S, duration, problems
from portal.dashboard.officials import AddressThrottle, check_new
from portal.dashboard.queries import Counts, Kiosk, PeriodError, parse_period

TODAY = dt.date(2026, 12, 1)


def test_area_codes_levels_and_containment() -> None:
    v = parse_area("35.10.01.2001")
    assert v == Area("3510012001") and v.level is Level.VILLAGE and v.dotted == "35.10.01.2001"
    assert [a.code for a in v.ancestors()] == ["3510", "351001"]
    assert Area("3510").contains(v) and Area("351001").contains(v)
    assert not Area("351002").contains(v) and not v.contains(Area("351001"))
    assert Area("351009").upper_bound() == "35100:" and Area("3510").upper_bound() == "3511"
    for bad in ("", "35", "35100", "3510012001x", "35.10.01.20011", "abcd"):
        assert parse_area(bad) is None
    assert role_fits("kecamatan", "351001") and not role_fits("village", "351001")


def test_period_defaults_and_bad_dates() -> None:
    p = parse_period(None, None, TODAY, "Asia/Jakarta")
    assert (p.start, p.end, len(p.days)) == (dt.date(2026, 11, 2), TODAY, 30)
    t0, t1 = parse_period("2026-12-01", "2026-12-01", TODAY, "Asia/Jakarta").bounds()
    assert t1 - t0 == 86400 and t0 == dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC).timestamp()
    with pytest.raises(PeriodError, match="Tanggal awal tidak dikenali"):
        parse_period("01/12/2026", None, TODAY, "Asia/Jakarta")
    with pytest.raises(PeriodError, match="harus sebelum"):
        parse_period("2026-12-02", "2026-12-01", TODAY, "Asia/Jakarta")
    with pytest.raises(PeriodError, match="366"):
        parse_period("2025-01-01", None, TODAY, "Asia/Jakarta")


def test_daily_chart_is_accessible_svg_without_script() -> None:
    series = [(TODAY - dt.timedelta(days=i), i % 4) for i in range(14, 0, -1)]
    svg = str(charts.daily_bars(series, "Pendaftaran"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>" in svg
    assert svg.count('<rect class="bar"') == 14 and "<script" not in svg
    assert 'aria-label="Pendaftaran: 21 pendaftaran dalam 14 hari"' in svg
    assert charts.nice_max(0) == 1 and charts.nice_max(7) == 10 and charts.nice_max(11) == 20
    empty = str(charts.daily_bars([], "Kosong"))
    assert "0 pendaftaran" in empty


def test_stacked_bar_escapes_labels_and_shows_empty() -> None:
    seg = [charts.Segment("<b>a</b>", 3, "seg-verified"), charts.Segment("b", 1, "seg-pending")]
    svg = str(charts.stacked_bar(seg, "Hasil"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    widths = [
        float(w) for w in re.findall(r'class="seg-\w+" x="[\d.]+" y="4" width="([\d.]+)"', svg)
    ]
    assert widths == [570.0, 190.0]
    assert "disembunyikan" in str(charts.stacked_bar([], "Hasil", empty="disembunyikan"))


def test_small_cells_are_suppressed_below_five_records() -> None:
    few = Counts(new=4, outcomes={"vouched": 1, "verified": 3}, assisted=1, attempts=6, failed=3)
    f = present.figures(few)
    assert f.outcomes is None and f.assisted is None and f.face_failed is None
    assert f.spoofs is None and f.new == "4"
    assert "disembunyikan" in str(present.outcome_bar(few))
    enough = Counts(new=5, outcomes={"verified": 4, "vouched": 1}, assisted=2, attempts=8, failed=4)
    g = present.figures(enough)
    assert g.outcomes == [
        ("Terverifikasi", "4", "80,0 %"), ("Menunggu verifikasi", "0", "0,0 %"),
        ("Dijamin pendamping", "1", "20,0 %"),
    ]  # fmt: skip
    assert (g.assisted, g.face_failed) == ("40,0 %", "50,0 %")
    assert present.number(1234567) == "1.234.567"


def kiosk(**over: object) -> Kiosk:
    base: dict[str, object] = dict(
        device_id="k", village="3510012001", name="", last_seen=1000.0, online=True,
        queue_depth=0, oldest_pending_s=None, dead=0, disk_free_bytes=DISK_LOW_BYTES * 5,
        temp_c=50.0, clock_synced=True, clock_skew_s=2.0,
    )  # fmt: skip
    base.update(over)
    return Kiosk(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("over", "keys"),
    [
        ({}, []),
        ({"last_seen": None}, ["never"]),
        ({"last_seen": 1000.0 - STALE_S - 1}, ["stale"]),
        ({"online": False}, ["offline"]),
        ({"dead": 2, "oldest_pending_s": 90000.0}, ["dead", "backlog"]),
        ({"disk_free_bytes": 10}, ["disk"]),
        ({"temp_c": 80.0}, ["hot"]),
        ({"clock_synced": False}, ["clock"]),
        ({"clock_skew_s": -3600.0}, ["clock"]),
    ],
)
def test_kiosk_problems(over: dict[str, object], keys: list[str]) -> None:
    assert [p.key for p in problems(kiosk(**over), 1000.0)] == keys


def test_durations_in_indonesian() -> None:
    assert [duration(s) for s in (5, 600, 7200, 3 * 86400)] == [
        "5 detik", "10 menit", "2 jam", "3 hari",
    ]  # fmt: skip


def test_address_throttle_slides() -> None:
    t = [0.0]
    th = AddressThrottle(limit=2, window_s=10, clock=lambda: t[0])
    th.failed("a")
    assert th.blocked_until("a") is None
    th.failed("a")
    assert th.blocked_until("a") == 10.0 and th.blocked_until("b") is None
    t[0] = 10.5
    assert th.blocked_until("a") is None


def test_address_throttle_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from portal.dashboard import officials

    monkeypatch.setattr(officials, "MAX_ADDRESSES", 50)
    t = [0.0]
    th = AddressThrottle(limit=3, window_s=10, clock=lambda: t[0])
    for i in range(500):
        t[0] = i / 100
        th.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(th._failures) <= 50
    th.failed("10.0.1.243")  # the newest addresses are the ones kept
    th.failed("10.0.1.243")
    assert th.blocked_until("10.0.1.243") is not None


def test_new_official_checks() -> None:
    assert check_new("camat-1", "kecamatan", "35.10.01", "panjang-sekali") is None
    assert "6-digit" in (check_new("camat-1", "kecamatan", "3510", "panjang-sekali") or "")
    assert "role" in (check_new("x-1", "camat", "3510", "panjang-sekali") or "")
    assert "user name" in (check_new("A B", "regency", "3510", "panjang-sekali") or "")
    assert "at least 10" in (check_new("abc", "regency", "3510", "pendek") or "")
