"""One stateless ingest worker: a shared subscription in, one database transaction per batch,
acks out only after the commit. Run as many as the load needs, each with its own client id.

* MQTT 5 (mosquitto, EMQX, HiveMQ): ``$share/<group>/perlinsos/v1/kiosk/+/<kind>``; the broker
  hands each message to one worker of the group. Persistent session (clean start false, session
  expiry), so a worker's queue survives its restarts.
* MQTT 3.1.1 (RabbitMQ's MQTT plugin): clean session false; no ``$share`` in 3.1.1, so every
  worker of a 3.1.1 group sees every message and the unique key keeps the database exactly-once.
* Batch: up to ``batch`` messages are opened, then written in ONE transaction (records
  insert-if-absent on (device id, record id), heartbeats and availability upserted), then each
  record gets its application ack and every message its PUBACK.
* On PostgreSQL every worker also sends the officers' queued decisions to the kiosks
  (``status_push``: :mod:`portal.status_push`, each by one worker, kept until the PUBACK).
* The command line also runs the status desk (``portal.status_desk``) as the ``status`` service
  on the same database: any worker answers any ``status_request`` and checks any objection.
  Status and family card queries are limited per kiosk by one :class:`portal.queries.QueryLimit`
  counted in that database (``--queries-per-window`` per ``--query-window``, default 60 per
  600 s, each desk apart), so N workers allow a kiosk the limit once.

    python -m portal.ingest.worker --broker 127.0.0.1:8883 --store postgres \
        --target "host=/run/postgresql dbname=portal" --client-id ingest-1 \
        --private-key portal_x25519.pem --signing-key portal_ed25519.pem --device-keys DIR \
        --ca ca.pem --cert portal.crt --key portal.key
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.crypto.keys import load_portal_private_key, load_signing_private_key
from portal.ingest.store import IngestStore, open_store
from portal.intake import DeviceKeys, Intake, KindService, device_keys_from_dir, filters
from portal.kinds import handled
from portal.link import PROTOCOLS, PortalLink, TlsFiles, run_until_signalled
from portal.queries import QueryLimit, open_counters
from portal.status_book import open_book
from portal.status_desk import StatusDesk

if TYPE_CHECKING:
    from portal.status_push import StatusPusher

log = logging.getLogger("portal.ingest")

INGESTED = tuple(k.name for k in handled(frozenset()))
"""The kiosk->portal topics the ingest workers take: every stored kind (a request that only a
portal service can answer, such as online verification, stays with that service)."""


def ingest_filters(
    prefix: str, group: str | None, services: frozenset[str] = frozenset()
) -> list[str]:
    """The worker's subscriptions: shared in ``group`` (MQTT 5), plain when ``group`` is None;
    the requests of ``services`` too."""
    return filters(prefix, handled(services), group)


class IngestWorker:
    """Shared-subscription consumer writing batches to an :class:`IngestStore` (``group``
    None: a plain subscription, as the reference receiver's); ``services`` as the intake's;
    ``status_push``: the PostgreSQL DSN whose queued decisions this worker also sends."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        store: IngestStore,
        private_key: X25519PrivateKey,
        signing_key: Ed25519PrivateKey,
        device_keys: DeviceKeys,
        client_id: str,
        tls: TlsFiles | None = None,
        prefix: str = "perlinsos/v1",
        group: str | None = "ingest",
        services: Mapping[str, KindService] | None = None,
        protocol: str = "5",
        session_expiry_s: int = 7 * 86400,
        batch: int = 512,
        linger_s: float = 0.1,
        receive_maximum: int = 1000,
        fallbacks: tuple[tuple[str, int], ...] = (),
        keepalive_s: int = 10,
        status_push: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        # MQTT 3.1.1 has no $share: every worker of a 3.1.1 group sees every message and the
        # unique key keeps the database exactly-once
        self.link = PortalLink(
            host=host,
            port=port,
            client_id=client_id,
            filters=ingest_filters(
                prefix, group if protocol == "5" else None, frozenset(services or {})
            ),
            tls=tls,
            protocol=protocol,
            session_expiry_s=session_expiry_s,
            receive_maximum=receive_maximum,
            batch=batch,
            linger_s=linger_s,
            fallbacks=fallbacks,
            keepalive_s=keepalive_s,
        )
        self.intake = Intake(
            link=self.link,
            store=store,
            private_key=private_key,
            signing_key=signing_key,
            device_keys=device_keys,
            services=services,
            prefix=prefix,
            clock=clock,
        )
        self.connected = self.link.connected
        self.counts = self.intake.counts  # stored, duplicates, rejected, heartbeats
        self.pusher: StatusPusher | None = None
        if status_push is not None:
            from portal.status_push import StatusPusher  # psycopg only where it is used

            self.pusher = StatusPusher(
                status_push, self.link, signing_key, prefix=prefix, clock=clock
            )

    def credentials(self, username: str, password: str) -> None:
        """User name and password (brokers without client certificates, e.g. RabbitMQ)."""
        self.link.credentials(username, password)

    def start(self) -> None:
        """Connect (persistent session) and start the batch thread (and the status push)."""
        self.link.start(self.intake.process)
        if self.pusher is not None:
            self.pusher.start()

    def stop(self) -> None:
        """Finish the batch (and push) in hand, disconnect (the session stays on the
        broker), close."""
        if self.pusher is not None:
            self.pusher.stop()
        self.link.stop()
        self.store.close()


def pg_services(
    store: str, target: str, signing_key: Ed25519PrivateKey, limit: QueryLimit | None = None
) -> dict[str, KindService]:
    """The portal services a PostgreSQL worker answers from the database it writes (family
    card queries, within ``limit``: by default the count every worker shares there); none for
    the SQLite store (the reference receiver answers those)."""
    if store != "postgres":
        return {}
    from portal.family_cards import FamilyDesk, PostgresFamilyIndex

    limit = limit or QueryLimit(open_counters(store, target))
    return {"family": FamilyDesk(PostgresFamilyIndex(target), signing_key, limit=limit).answer_each}


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    """Run one ingest worker until SIGINT/SIGTERM."""
    p = argparse.ArgumentParser(prog="python -m portal.ingest.worker", description=__doc__)
    p.add_argument(
        "--broker", required=True, help="host:port[,host:port...]: cluster nodes, tried in turn"
    )
    p.add_argument("--store", default="postgres", help="store backend: postgres or sqlite")
    p.add_argument("--target", required=True, help="PostgreSQL DSN, or SQLite file path")
    p.add_argument("--client-id", required=True, help="unique per worker (its broker session)")
    p.add_argument("--group", default="ingest", help="shared-subscription group (MQTT 5)")
    p.add_argument("--protocol", default="5", choices=PROTOCOLS)
    p.add_argument("--batch", type=int, default=512, help="most messages per transaction")
    p.add_argument(
        "--linger", type=float, default=0.1, help="s a small batch waits for more messages"
    )
    p.add_argument(
        "--keepalive", type=int, default=10,
        help="s of silence before a ping; 60 on a RabbitMQ 3.10 cluster (slow CONNACK under load)",
    )  # fmt: skip
    p.add_argument("--private-key", required=True, help="portal X25519 key, PEM")
    p.add_argument("--signing-key", required=True, help="portal Ed25519 reply-signing key, PEM")
    p.add_argument("--device-keys", required=True, help="dir of <device_id>.pem")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--prefix", default="perlinsos/v1")
    p.add_argument(
        "--queries-per-window", type=int, default=60,
        help="status (and, apart, family card) queries one kiosk may ask, all workers together",
    )  # fmt: skip
    p.add_argument("--query-window", type=float, default=600.0, help="s: the limit's window")
    args = p.parse_args(argv)
    try:  # one count, shared by every worker on the database
        limit = QueryLimit(
            open_counters(args.store, args.target),
            per_window=args.queries_per_window,
            window_s=args.query_window,
        )
    except ValueError as err:
        p.error(str(err))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    (host, port), *fallbacks = [_address(a) for a in args.broker.split(",")]
    tls = TlsFiles(Path(args.ca), Path(args.cert), Path(args.key)) if args.ca else None
    signing_key = load_signing_private_key(Path(args.signing_key))
    desk = StatusDesk(open_book(args.store, args.target), signing_key, limit=limit)
    worker = IngestWorker(
        host=host,
        port=port,
        fallbacks=tuple(fallbacks),
        store=open_store(args.store, args.target),
        private_key=load_portal_private_key(Path(args.private_key)),
        signing_key=signing_key,
        device_keys=device_keys_from_dir(Path(args.device_keys)),
        client_id=args.client_id,
        services={
            "status": desk.service,  # status + objections
            **pg_services(args.store, args.target, signing_key, limit),
        },
        tls=tls,
        prefix=args.prefix,
        group=args.group,
        protocol=args.protocol,
        batch=args.batch,
        linger_s=args.linger,
        keepalive_s=args.keepalive,
        status_push=args.target if args.store == "postgres" else None,
    )
    if args.username:
        worker.credentials(args.username, args.password or "")
    try:
        run_until_signalled(worker.start, worker.stop)
    finally:
        desk.close()
        limit.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
