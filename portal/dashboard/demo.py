"""A demo regency for trying the dashboard and for its tests: fictional areas, kiosks, officials,
and records written through the ingest store (the path the workers use), never real people.

The NIKs in the records are made-up 16-digit numbers: the dashboard must show none of them.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from portal.dashboard.officials import create_official
from portal.ingest.postgres import PostgresIngestStore
from portal.ingest.store import Batch, Beat
from portal.store import Incoming

REGENCY = ("3510", "Contoh")
KECAMATAN = [("351001", "Pesisir"), ("351002", "Gunungsari"), ("351003", "Sumberwaras")]
VILLAGES = [
    ("3510012001", "Sumberagung"), ("3510012002", "Sarongan"), ("3510012003", "Kandangan"),
    ("3510022001", "Sambirejo"), ("3510022002", "Temurejo"),
    ("3510032001", "Karangharjo"), ("3510032002", "Sukomaju"),
]  # fmt: skip
SMALL_VILLAGE = "3510022002"
"""Gets only three registrations: its breakdown is suppressed."""

DEMO_PASSWORD = "contoh-sandi-2026"
OFFICIALS = [
    ("kabupaten", "Ibu Sari (Dinas Sosial)", "regency", "3510"),
    ("camat-pesisir", "Bapak Hadi (Kecamatan Pesisir)", "kecamatan", "351001"),
    ("desa-sarongan", "Ibu Wati (Desa Sarongan)", "village", "3510012002"),
]
"""(user name, name, role, area) of the demo officials, all with ``DEMO_PASSWORD``."""


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed` wrote (tests compare the dashboard's figures with these)."""

    registrations: list[dict[str, Any]]
    spoofs: dict[str, int]  # village code -> spoof_suspected entries
    kiosks: dict[str, str]  # device id -> village code


def _uuid7(ts: float, rng: random.Random) -> str:
    ms = int(ts * 1000)
    rand = rng.getrandbits(80)
    value = (
        (ms << 80)
        | (0x7 << 76)
        | ((rand >> 64) & 0xFFF) << 64
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def registration(
    rng: random.Random, device_id: str, village: str, at: float, nik: str,
    outcome: str, assisted: bool, attempts: int, version: int = 1,
) -> Incoming:  # fmt: skip
    """One registration record shaped as the kiosk's registration service seals it."""
    rid = _uuid7(at, rng)
    record = {
        "record_id": rid,
        "registration": {"id": rid, "version": version},
        "receipt_no": f"{rng.randrange(10**10):010d}",
        "device_id": device_id,
        "village_code": village,
        "software_version": "demo",
        "nik": nik,
        "verification": {
            "outcome": outcome,
            "reference_source": "village_set",
            "match_band": "high" if outcome == "verified" else None,
            "liveness_band": "live",
            "attempts": attempts,
            "assisted_by": f"agent-{rng.randrange(100):02d}" if assisted else None,
            "vouch_id": rid if outcome == "vouched" else None,
            "review_required": outcome == "vouched",
        },
        "face_template": None,
        "form": {"id": "household", "version": "1"},
        "answers": {"household_size": rng.randint(1, 7)},
        "consent": {"version": "1", "given": True, "heard": True},
        "clock": {"wall": at, "monotonic": 1000.0, "boot_id": "demo", "synced": True},
    }
    return Incoming(device_id, rid, "registration", record)


def audit(rng: random.Random, device_id: str, at: float, spoofs: int) -> Incoming:
    """An audit batch with ``spoofs`` spoof suspicions among ordinary entries."""
    bid = _uuid7(at, rng)
    entries: list[list[Any]] = []
    for i in range(spoofs + 3):
        kind = "spoof_suspected" if i < spoofs else "agent_login_ok"
        entries.append([i + 1, at + i, kind, None, "print", "0" * 64, "0" * 64])
    record = {"batch_id": bid, "device_id": device_id, "from_seq": 1, "to_seq": len(entries),
              "head_hash": "0" * 64, "entries": entries}  # fmt: skip
    return Incoming(device_id, bid, "audit", record)


def heartbeat(device_id: str, at: float, **over: Any) -> Beat:
    """A heartbeat message as the kiosk builds it, with ``over`` replacing fields."""
    msg: dict[str, Any] = {
        "v": 1, "device_id": device_id,
        "clock": {"wall": at, "monotonic": 5000.0, "boot_id": "demo", "synced": True},
        "queue_depth": 0, "oldest_pending_age_s": None, "dead": 0,
        "disk_free_bytes": 12 * 1024**3, "cpu_temp_c": 52.0, "camera": "ok",
        "models": {}, "software_version": "demo", "inbound_refused": {},
    }  # fmt: skip
    for k, v in over.items():
        if k == "synced":
            msg["clock"]["synced"] = v
        elif k == "skew":
            msg["clock"]["wall"] = at + v
        else:
            msg[k] = v
    return Beat(msg, json.dumps(msg), at)


def seed(dsn: str, now: float, days: int = 30, seed_value: int = 18) -> Seeded:
    """Write the demo regency into ``dsn``: areas, devices, officials, records, heartbeats."""
    rng = random.Random(seed_value)
    store = PostgresIngestStore(dsn)  # migrates, like a worker
    regs: list[dict[str, Any]] = []
    spoofs: dict[str, int] = {}
    kiosks: dict[str, str] = {}
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            areas = [REGENCY, *KECAMATAN, *VILLAGES]
            conn.execute(
                "INSERT INTO area (code, name) SELECT * FROM unnest(%s::text[], %s::text[])"
                " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name",
                ([c for c, _ in areas], [n for _, n in areas]),
            )
            for i, (village, name) in enumerate(VILLAGES):
                device = f"kiosk-{village}-01"
                kiosks[device] = village
                if i % 2 == 0:  # half registered by the operator, half placed by their records
                    conn.execute(
                        "INSERT INTO device (device_id, village_code, name) VALUES (%s, %s, %s)"
                        " ON CONFLICT (device_id) DO NOTHING",
                        (device, village, f"Kantor Desa {name}"),
                    )
            for username, name, role, area in OFFICIALS:
                create_official(conn, username, name, role, area, DEMO_PASSWORD, now)
        nik = 3510010101900000
        for vi, (village, _name) in enumerate(VILLAGES):
            device = f"kiosk-{village}-01"
            batch = Batch(now)
            n_days = 3 if village == SMALL_VILLAGE else days
            for d in range(n_days):
                per_day = 1 if village == SMALL_VILLAGE else rng.randint(0, 4 + vi % 3 * 3)
                for _ in range(per_day):
                    at = now - (d + 1) * 86400 + rng.uniform(8 * 3600, 15 * 3600) - 12 * 3600
                    roll = rng.random()
                    outcome = "verified" if roll < 0.68 else "pending" if roll < 0.85 else "vouched"
                    attempts = 3 if outcome == "vouched" else rng.choice([1, 1, 1, 2])
                    assisted = outcome == "vouched" or rng.random() < 0.6
                    nik += 1
                    inc = registration(rng, device, village, at, str(nik), outcome, assisted,
                                       attempts)  # fmt: skip
                    batch.add(inc)
                    regs.append(inc.record)
            n_spoof = 0 if village == SMALL_VILLAGE else vi % 3
            if n_spoof:
                batch.add(audit(rng, device, now - 2 * 86400, n_spoof))
                spoofs[village] = n_spoof
            store.write(batch)
        beats = {
            "kiosk-3510012001-01": heartbeat("kiosk-3510012001-01", now - 40),
            "kiosk-3510012002-01": heartbeat(
                "kiosk-3510012002-01", now - 30, queue_depth=14, oldest_pending_age_s=2 * 86400.0
            ),
            "kiosk-3510012003-01": heartbeat("kiosk-3510012003-01", now - 3 * 3600),
            "kiosk-3510022001-01": heartbeat("kiosk-3510022001-01", now - 20, cpu_temp_c=79.5),
            "kiosk-3510022002-01": heartbeat(
                "kiosk-3510022002-01", now - 50, disk_free_bytes=600 * 1024**2
            ),
            "kiosk-3510032001-01": heartbeat(
                "kiosk-3510032001-01", now - 10, synced=False, skew=-3 * 86400
            ),
            "kiosk-3510032002-01": heartbeat("kiosk-3510032002-01", now - 25),
        }
        store.write(
            Batch(now, heartbeats=beats, availability={d: ("online", now - 60) for d in beats})
        )
    finally:
        store.close()
    return Seeded(regs, spoofs, kiosks)
