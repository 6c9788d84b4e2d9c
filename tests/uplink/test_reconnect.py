"""Reconnect delays: full jitter with a cap, and each link draws its own (no lock-step fleet)."""

from __future__ import annotations

import random

from kiosk.config import parse_config
from kiosk.uplink.client import RECONNECT_CAP_S, FullJitter, MqttLink


def test_full_jitter_stays_under_a_doubling_ceiling_and_the_cap() -> None:
    j = FullJitter(1.0, 20.0, random.Random(1))
    for attempt in range(1, 40):
        d = j.next()
        assert 0.0 <= d <= min(20.0, 2 ** (attempt - 1))
    j.reset()
    assert j.next() <= 1.0


def test_a_fleet_does_not_reconnect_in_lock_step() -> None:
    # 200 kiosks after the same outage, 5th attempt: the delays spread over [0, 16 s]
    delays = []
    for seed in range(200):
        j = FullJitter(1.0, 60.0, random.Random(seed))
        for _ in range(5):
            d = j.next()
        delays.append(d)
    assert max(delays) - min(delays) > 12.0
    assert len({round(d, 3) for d in delays}) > 190


def test_the_link_hands_paho_a_jittered_delay_each_time() -> None:
    cfg = parse_config({"uplink": {"backoff_initial_s": 1.0, "backoff_max_s": 600.0}})
    link = MqttLink(cfg.uplink, "kiosk-jit-01", lambda e: None)
    seen = set()
    for _ in range(8):
        link._set_reconnect_delay(link._client)
        lo, hi = link._client._reconnect_min_delay, link._client._reconnect_max_delay
        assert lo == hi <= RECONNECT_CAP_S
        seen.add(lo)
    assert len(seen) == 8  # paho alone would give 1, 2, 4, ... for every kiosk alike
