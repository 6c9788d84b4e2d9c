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

    python -m portal.ingest.worker --broker 127.0.0.1:8883 --store postgres \
        --target "host=/run/postgresql dbname=portal" --client-id ingest-1 \
        --private-key portal_x25519.pem --signing-key portal_ed25519.pem --device-keys DIR \
        --ca ca.pem --cert portal.crt --key portal.key
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.crypto.envelope import peek
from kiosk.crypto.keys import load_portal_private_key, load_signing_private_key
from kiosk.errors import CryptoError, ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.client import FullJitter, mqtt_version, refused_subscriptions
from kiosk.uplink.replies import ack_messages
from kiosk.uplink.topics import RECORD_KINDS, device_topic, parse_topic, uplink_filters
from portal.ingest.store import Batch, Beat, IngestStore, open_store
from portal.receiver import TlsFiles, device_keys_from_dir, open_record
from portal.store import Incoming

log = logging.getLogger("portal.ingest")

PROTOCOLS = ("5", "3.1.1")
"""``[uplink] protocol`` values (as the kiosk's)."""

INGESTED = ("heartbeat", "availability", *sorted(RECORD_KINDS))
"""The kiosk->portal topics the ingest workers take (online verification stays with the
reference service: a request must be answered, not merely stored)."""

_Msg = tuple[str, bytes, bytes | None, int, int]  # topic, payload, correlation, mid, qos


RECEIVE_MAXIMUM_3 = 100
"""Ack publishes in flight over MQTT 3.1.1, which has no Receive Maximum (a modest window)."""
RECEIVE_MAXIMUM_5 = 65535
"""MQTT 5: the broker's Receive Maximum when its CONNACK states none (the spec's default)."""


class AckWindow:
    """Counts the worker's unacknowledged ack publishes against the broker's Receive Maximum."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._cond = threading.Condition()

    def reset(self, limit: int) -> None:
        """A new connection: nothing is in flight, ``limit`` may be used."""
        with self._cond:
            self.limit = self._free = limit
            self._cond.notify_all()

    def acquire(self, stopping: threading.Event, wait_s: float = 0.5) -> bool:
        """Take a slot (waiting for PUBACKs); False when ``stopping`` is set meanwhile."""
        with self._cond:
            while self._free <= 0:
                if stopping.is_set():
                    return False
                self._cond.wait(wait_s)
            self._free -= 1
            return True

    def release(self) -> None:
        """A PUBACK came back."""
        with self._cond:
            if self._free < self.limit:
                self._free += 1
                self._cond.notify()


class CorrelationOnly:
    """MQTT 5 PUBLISH properties holding only Correlation Data, packed once.

    Stands in for paho's ``Properties`` on the ack hot path: that class rebuilds its name
    tables on every construction, a measurable share of the worker's CPU per record.
    """

    __slots__ = ("_packed",)

    def __init__(self, correlation: bytes) -> None:
        body = (
            b"\x09" + len(correlation).to_bytes(2, "big") + correlation
        )  # 0x09 = Correlation Data
        self._packed = _varint(len(body)) + body

    def pack(self) -> bytes:
        """The properties section of the PUBLISH packet (length, then the property)."""
        return self._packed


def _varint(n: int) -> bytes:
    """MQTT variable byte integer."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ingest_filters(prefix: str, group: str | None) -> list[str]:
    """The worker's subscriptions: shared in ``group`` (MQTT 5), plain when ``group`` is None."""
    wanted = [f for f in uplink_filters(prefix) if f.rsplit("/", 1)[1] in INGESTED]
    return [f"$share/{group}/{f}" for f in wanted] if group else wanted


def claimed_record_id(payload: bytes, correlation: bytes | None) -> str | None:
    """The record id a refused message claims (Correlation Data, else the envelope field)."""
    if correlation is not None:
        try:
            return correlation.decode("ascii")
        except UnicodeDecodeError:
            return None
    try:
        rid = peek(payload)["record_id"]
    except CryptoError:
        return None
    return rid if isinstance(rid, str) else None


class IngestWorker:
    """Shared-subscription consumer writing batches to an :class:`IngestStore`."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        store: IngestStore,
        private_key: X25519PrivateKey,
        signing_key: Ed25519PrivateKey,
        device_keys: Callable[[str], Ed25519PublicKey],
        client_id: str,
        tls: TlsFiles | None = None,
        prefix: str = "perlinsos/v1",
        group: str = "ingest",
        protocol: str = "5",
        session_expiry_s: int = 7 * 86400,
        batch: int = 512,
        receive_maximum: int = 1000,
        fallbacks: tuple[tuple[str, int], ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown MQTT protocol {protocol!r}: choose 5 or 3.1.1")
        self.store = store
        self._host, self._port = host, port
        self._brokers = ((host, port), *fallbacks)  # cluster nodes, tried in turn
        self._next_broker = 0
        self._prefix = prefix
        self._key = private_key
        self._signing_key = signing_key
        self._device_keys = device_keys
        self._v5 = protocol == "5"
        self._filters = ingest_filters(prefix, group if self._v5 else None)
        self._session_expiry = session_expiry_s
        self._batch = batch
        self._receive_maximum = receive_maximum
        self._clock = clock
        self._queue: queue.SimpleQueue[_Msg | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._sub_mid: int | None = None
        self._resubscribe = FullJitter(1.0, 30.0)
        self._acks = AckWindow(RECEIVE_MAXIMUM_5 if self._v5 else RECEIVE_MAXIMUM_3)
        self.stored = self.duplicates = self.rejected = self.heartbeats = 0
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt_version(protocol),
            clean_session=None if self._v5 else False,
        )
        if tls is not None:
            c.tls_set(ca_certs=str(tls.ca), certfile=str(tls.cert), keyfile=str(tls.key))
        c.manual_ack_set(True)
        c.reconnect_delay_set(1, 5)
        # paho's own in-flight limit rescans its whole out-queue on every PUBACK (O(n) per ack);
        # the worker keeps its acks within the broker's Receive Maximum itself (_AckWindow)
        c.max_inflight_messages_set(0)
        c.on_publish = self._on_publish
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self._client = c

    def credentials(self, username: str, password: str) -> None:
        """User name and password (brokers without client certificates, e.g. RabbitMQ)."""
        self._client.username_pw_set(username, password)

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect (persistent session) and start the batch thread."""
        self._thread = threading.Thread(target=self._work, name="ingest-batch", daemon=True)
        self._thread.start()
        self._connect(self._host, self._port)
        self._client.loop_start()

    def _connect(self, host: str, port: int) -> None:
        """Where (re)connects go from now on: persistent session, our Receive Maximum."""
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry
            props.ReceiveMaximum = self._receive_maximum
            self._client.connect_async(
                host, port, keepalive=10, clean_start=False, properties=props
            )
        else:
            self._client.connect_async(host, port, keepalive=10)

    def stop(self) -> None:
        """Finish the batch in hand, disconnect (the session stays on the broker), close."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(30)
        self.store.close()

    # --- paho callbacks (network thread) ----------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.error("broker refused the ingest worker: %s", rc)
            return
        limit = getattr(_p, "ReceiveMaximum", None) if _p is not None else None
        default = RECEIVE_MAXIMUM_5 if self._v5 else RECEIVE_MAXIMUM_3
        self._acks.reset(int(limit) if limit else default)
        log.info("ingest worker connected (session present: %s)", flags.session_present)
        self._subscribe()

    def _subscribe(self) -> None:
        if self._client.is_connected():
            _rc, self._sub_mid = self._client.subscribe([(t, 1) for t in self._filters])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: Any, _p: Any = None
    ) -> None:
        if mid != self._sub_mid:
            return
        refused = refused_subscriptions(reason_codes)
        if refused:  # not connected until the broker grants every subscription
            delay = self._resubscribe.next()
            log.error("broker refused ingest subscription(s) %s; retry in %.0f s", refused, delay)
            timer = threading.Timer(delay, self._subscribe)
            timer.daemon = True
            timer.start()
            return
        self._resubscribe.reset()
        log.info("ingest worker subscribed")
        self.connected.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()
        if len(self._brokers) > 1 and not self._stopping.is_set():  # next node of the cluster
            self._next_broker = (self._next_broker + 1) % len(self._brokers)
            host, port = self._brokers[self._next_broker]
            log.warning("ingest worker lost the broker; next try %s:%d", host, port)
            self._connect(host, port)
        self._acks.reset(self._acks.limit)  # paho forgets unacknowledged QoS 1 publishes

    def _on_publish(self, *_a: Any) -> None:
        self._acks.release()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        props = msg.properties
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        self._queue.put((msg.topic, bytes(msg.payload), corr, msg.mid, msg.qos))

    # --- batch thread -------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._process(batch)
            except Exception:  # a bug must not end the worker; nothing unstored is acked
                log.exception("ingest batch of %d failed; left unacknowledged", len(batch))
            if stop:
                return

    def _process(self, msgs: list[_Msg]) -> None:
        now = self._clock()
        batch = Batch(now)
        opened: list[tuple[str, bytes | None, Incoming]] = []
        refused: list[tuple[str, bytes | None, str, str]] = []
        known: dict[str, Ed25519PublicKey] = {}

        def device_key(device_id: str) -> Ed25519PublicKey:  # one key-file check per batch
            key = known.get(device_id)
            if key is None:
                key = known[device_id] = self._device_keys(device_id)
            return key

        for topic, payload, corr, _mid, _qos in msgs:
            parsed = parse_topic(self._prefix, topic)
            if parsed is None:
                continue
            device_id, name = parsed
            if name in RECORD_KINDS:
                try:
                    inc = open_record(
                        payload,
                        device_id=device_id,
                        kind=name,
                        record_id=corr,
                        private_key=self._key,
                        device_keys=device_key,
                    )
                    why = batch.add(inc)
                except (CryptoError, ProtocolError) as err:
                    why = str(err)
                if why is not None:
                    rid = claimed_record_id(payload, corr)
                    batch.rejections.append((device_id, rid, why, now))
                    log.warning("record from %s rejected: %s", device_id, why)
                    if rid is not None:
                        refused.append((device_id, corr, rid, why))
                    continue
                opened.append((device_id, corr, inc))
            elif name == "heartbeat":
                self._heartbeat(batch, device_id, payload, now)
            elif name == "availability" and payload in (b"online", b"offline"):
                batch.availability[device_id] = (payload.decode(), now)
        fresh = self._commit(batch)
        if fresh is None:
            return  # stopping with the database down: unacknowledged, the broker redelivers
        replies: dict[str, list[tuple[bytes | None, dict[str, Any]]]] = {}
        for (device_id, corr, inc), new in zip(opened, fresh, strict=True):
            result = "stored" if new else "duplicate"
            replies.setdefault(device_id, []).append(
                (corr, {"record_id": inc.record_id, "result": result})
            )
        for device_id, corr, rid, reason in refused:
            replies.setdefault(device_id, []).append(
                (corr, {"record_id": rid, "result": "rejected", "reason": reason})
            )
        for device_id, items in replies.items():
            self._reply(device_id, items)
        n_new = sum(fresh)
        self.heartbeats += len(batch.heartbeats)
        self.stored += n_new
        self.duplicates += len(fresh) - n_new
        self.rejected += len(batch.rejections)
        for _t, _p, _c, mid, qos in msgs:  # PUBACK only now: everything above is committed
            if qos > 0:
                self._client.ack(mid, qos)

    def _commit(self, batch: Batch) -> list[bool] | None:
        """Write the batch, retrying while the database is unreachable (None when stopping)."""
        delay = 0.5
        while True:
            try:
                return self.store.write(batch)
            except Exception as err:  # a database outage must not drop or ack anything
                log.warning("ingest batch not committed (%s); retrying in %.1f s", err, delay)
            if self._stopping.wait(delay):
                return None
            delay = min(delay * 2, 10.0)

    def _heartbeat(self, batch: Batch, device_id: str, payload: bytes, now: float) -> None:
        try:
            msg = messages.parse("heartbeat", payload)
        except ProtocolError as err:
            log.warning("heartbeat from %s rejected: %s", device_id, err)
            return
        if msg["device_id"] != device_id:
            log.warning("heartbeat on %s names device %r: ignored", device_id, msg["device_id"])
            return
        batch.heartbeats[device_id] = Beat(msg, payload.decode(), now)

    def _reply(self, device_id: str, items: list[tuple[bytes | None, dict[str, Any]]]) -> None:
        """Signed ack message(s) for this batch's records of one device (kiosk/uplink/replies)."""
        entries = [entry for _corr, entry in items]
        single = items[0][0] if len(items) == 1 else None
        props = CorrelationOnly(single) if self._v5 and single is not None else None
        # only ever on the device's own ack topic, whatever Response Topic was asked
        topic = device_topic(self._prefix, device_id, "ack")
        for payload in ack_messages(device_id, entries, self._signing_key, self._clock()):
            if not self._acks.acquire(self._stopping):
                return  # stopping: the kiosk resends after its ack timeout and gets "duplicate"
            self._client.publish(topic, payload, qos=1, properties=cast(Properties, props))


def main(argv: list[str] | None = None) -> int:
    """Run one ingest worker until SIGINT/SIGTERM."""
    p = argparse.ArgumentParser(prog="python -m portal.ingest.worker", description=__doc__)
    p.add_argument("--broker", required=True, help="host:port")
    p.add_argument("--store", default="postgres", help="store backend: postgres or sqlite")
    p.add_argument("--target", required=True, help="PostgreSQL DSN, or SQLite file path")
    p.add_argument("--client-id", required=True, help="unique per worker (its broker session)")
    p.add_argument("--group", default="ingest", help="shared-subscription group (MQTT 5)")
    p.add_argument("--protocol", default="5", choices=PROTOCOLS)
    p.add_argument("--batch", type=int, default=512, help="most messages per transaction")
    p.add_argument("--private-key", required=True, help="portal X25519 key, PEM")
    p.add_argument("--signing-key", required=True, help="portal Ed25519 reply-signing key, PEM")
    p.add_argument("--device-keys", required=True, help="dir of <device_id>.pem")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--prefix", default="perlinsos/v1")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    host, _, port = args.broker.rpartition(":")
    tls = TlsFiles(Path(args.ca), Path(args.cert), Path(args.key)) if args.ca else None
    worker = IngestWorker(
        host=host or "127.0.0.1",
        port=int(port),
        store=open_store(args.store, args.target),
        private_key=load_portal_private_key(Path(args.private_key)),
        signing_key=load_signing_private_key(Path(args.signing_key)),
        device_keys=device_keys_from_dir(Path(args.device_keys)),
        client_id=args.client_id,
        tls=tls,
        prefix=args.prefix,
        group=args.group,
        protocol=args.protocol,
        batch=args.batch,
    )
    if args.username:
        worker.credentials(args.username, args.password or "")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    worker.start()
    done.wait()
    worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
