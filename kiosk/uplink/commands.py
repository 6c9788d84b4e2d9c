"""``kiosk outbox status|retry-dead|keygen``: what is waiting, what died and why; device key.

``status`` never prints personal data: only record ids, states, counts and reasons.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from kiosk.config import load_config
from kiosk.crypto.keys import device_key_path, key_id, load_or_create_device_key, public_pem
from kiosk.store.db import DB_NAME, connect
from kiosk.store.outbox import OutboxRepository
from kiosk.uplink.topics import broker_acl


def register(sub: Any) -> None:
    """Add the ``outbox`` sub-command group."""
    p = sub.add_parser("outbox", help="the queue of records waiting for the portal")
    osub = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    st = osub.add_parser(
        "status", help="counts per state, oldest waiting, dead records (exit 1 if any dead)"
    )
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(handler=_status)
    rd = osub.add_parser("retry-dead", help="send dead records again (after fixing the cause)")
    rd.set_defaults(handler=_retry_dead)
    kg = osub.add_parser("device-key", help="create (if absent) and print the device public key")
    kg.set_defaults(handler=_device_key)
    acl = osub.add_parser("acl", help="print the Mosquitto ACL the portal's broker needs")
    acl.add_argument("--prefix", help="topic prefix (default: uplink.topic_prefix of the config)")
    acl.set_defaults(handler=_acl)


def _repo(args: argparse.Namespace) -> OutboxRepository:
    cfg = load_config(args.config)
    return OutboxRepository(connect(cfg.paths.data_dir / DB_NAME))


def status_report(repo: OutboxRepository, now: float) -> dict[str, Any]:
    """The facts ``kiosk outbox status`` shows."""
    c = repo.counts()
    return {
        "waiting": c.waiting,
        "pending": c.pending,
        "sent": c.sent,
        "acked": c.acked,
        "dead": c.dead,
        "oldest_waiting_s": repo.oldest_pending_age(now),
        "dead_records": [{"record_id": r, "reason": why} for r, why in repo.dead()],
    }


def _status(args: argparse.Namespace) -> int:
    report = status_report(_repo(args), time.time())
    if args.json:
        print(json.dumps(report, indent=1))
        return 1 if report["dead"] else 0
    age = report["oldest_waiting_s"]
    print(
        f"{report['waiting']} waiting to send ({report['pending']} pending, {report['sent']} sent)"
    )
    print(f"{report['acked']} acknowledged by the portal, {report['dead']} dead")
    if age is not None:
        print(f"oldest waiting: {age / 3600:.1f} h")
    for d in report["dead_records"]:
        print(f"  dead {d['record_id']}: {d['reason']}")
    return 1 if report["dead"] else 0


def _retry_dead(args: argparse.Namespace) -> int:
    n = _repo(args).revive_dead(time.time())
    print(f"{n} dead record(s) queued again")
    return 0


def _device_key(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    key = load_or_create_device_key(cfg.paths.data_dir)
    print(f"# device {cfg.device.id}, key id {key_id(key.public_key())}")
    print(f"# private key stays in {device_key_path(cfg.paths.data_dir)}")
    print(public_pem(key).decode(), end="")
    return 0


def _acl(args: argparse.Namespace) -> int:
    prefix = args.prefix or load_config(args.config).uplink.topic_prefix
    print(broker_acl(prefix), end="")
    return 0
