"""The portal's one MQTT path: connect (TLS, persistent session), subscribe (SUBACK checked),
receive into batches, publish within the broker's Receive Maximum, PUBACK on request.

Both the reference receiver (:mod:`portal.receiver`) and the ingest workers
(:mod:`portal.ingest.worker`) are this link plus an :class:`portal.intake.Intake`.

* MQTT 5: clean start false + a session expiry interval, so the broker queues kiosk records
  while the portal is down; our Receive Maximum bounds what the broker sends unacknowledged.
* MQTT 3.1.1 (RabbitMQ's MQTT plugin): clean session false.
* Manual acks: a message's PUBACK goes out only when the intake says its batch is committed.
* ``fallbacks``: further nodes of a broker cluster, tried in turn when the connection drops.
* :meth:`PortalLink.puback` tells a sender that must know (the status push) whether the broker
  accepted one of its publishes.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.uplink.client import FullJitter, mqtt_version, refused_subscriptions
from portal.fastpublish import FastPublishClient

log = logging.getLogger("portal.link")

PROTOCOLS = ("5", "3.1.1")
"""``[uplink] protocol`` values (as the kiosk's)."""

RECEIVE_MAXIMUM_3 = 100
"""Publishes in flight over MQTT 3.1.1, which has no Receive Maximum (a modest window)."""
RECEIVE_MAXIMUM_5 = 65535
"""MQTT 5: the broker's Receive Maximum when its CONNACK states none (the spec's default)."""
NO_MATCHING_SUBSCRIBERS = 0x10
"""MQTT 5 PUBACK reason code: accepted, but no subscription matched (nobody got it)."""


@dataclass(frozen=True)
class TlsFiles:
    """The portal's TLS client material."""

    ca: Path
    cert: Path
    key: Path


class Msg(NamedTuple):
    """One received PUBLISH, as the intake needs it."""

    topic: str
    payload: bytes
    correlation: bytes | None
    mid: int
    qos: int


class AckWindow:
    """Counts the portal's unacknowledged QoS 1 publishes against the broker's Receive Maximum."""

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
    tables on every construction, a measurable share of the portal's CPU per record.
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


Handler = Callable[[list[Msg]], None]


class PortalLink:
    """One MQTT connection of the portal, delivering received messages in batches."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        filters: list[str],
        tls: TlsFiles | None = None,
        protocol: str = "5",
        session_expiry_s: int = 7 * 86400,
        receive_maximum: int = 1000,
        batch: int = 512,
        batch_bytes: int = 1024 * 1024,
        linger_s: float = 0.1,
        fallbacks: tuple[tuple[str, int], ...] = (),
        keepalive_s: int = 10,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown MQTT protocol {protocol!r}: choose 5 or 3.1.1")
        self.v5 = protocol == "5"
        self._brokers = ((host, port), *fallbacks)  # cluster nodes, tried in turn
        self._next_broker = 0
        self._filters = filters
        self._session_expiry = session_expiry_s
        self._receive_maximum = receive_maximum
        self._batch = batch
        self._batch_bytes = batch_bytes  # frames hold up to 64 records: bound the payload too
        self._linger = linger_s
        # silence (s) before a ping; a node that answers nothing for 1.5x this is left for the
        # next one. A RabbitMQ 3.10 node under a fleet's connect storm may take longer than
        # 10 s to CONNACK (docs/PERFORMANCE.md): a worker there needs 60 s
        self._keepalive = keepalive_s
        self._queue: queue.SimpleQueue[Msg | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._handler: Handler | None = None
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.suback_failures = 0
        self._sub_mid: int | None = None
        self._resubscribe = FullJitter(1.0, 30.0)
        self._acks = AckWindow(RECEIVE_MAXIMUM_5 if self.v5 else RECEIVE_MAXIMUM_3)
        # packet id -> reason code of its last refused PUBACK; an accepted PUBACK for the same
        # id clears it, so a reused id never carries an earlier message's refusal
        self._refused: dict[int, str] = {}
        c = FastPublishClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt_version(protocol),
            clean_session=None if self.v5 else False,
        )
        if tls is not None:
            c.tls_set(ca_certs=str(tls.ca), certfile=str(tls.cert), keyfile=str(tls.key))
        c.manual_ack_set(True)
        c.reconnect_delay_set(1, 5)
        # paho's own in-flight limit rescans its whole out-queue on every PUBACK (O(n) per ack);
        # the link keeps its publishes within the broker's Receive Maximum itself (AckWindow)
        c.max_inflight_messages_set(0)
        c.on_publish = self._on_publish
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_connect_fail = self._on_connect_fail
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    def credentials(self, username: str, password: str) -> None:
        """User name and password (brokers without client certificates, e.g. RabbitMQ)."""
        self.client.username_pw_set(username, password)

    # --- lifecycle --------------------------------------------------------------------
    def start(self, handler: Handler) -> None:
        """Start the batch thread (calling ``handler`` with each batch) and connect."""
        self._handler = handler
        self._thread = threading.Thread(target=self._work, name="portal-batch", daemon=True)
        self._thread.start()
        self._connect(*self._brokers[0])
        self.client.loop_start()

    def _connect(self, host: str, port: int) -> None:
        """Where (re)connects go from now on: persistent session, our Receive Maximum."""
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry
            props.ReceiveMaximum = self._receive_maximum
            self.client.connect_async(
                host, port, keepalive=self._keepalive, clean_start=False, properties=props
            )
        else:
            self.client.connect_async(host, port, keepalive=self._keepalive)

    def stop(self, join_s: float = 30.0) -> None:
        """Finish the batch in hand, disconnect (the session stays on the broker)."""
        self.stopping.set()
        self.client.disconnect()
        self.client.loop_stop()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(join_s)

    # --- sending ------------------------------------------------------------------------
    def publish(
        self, topic: str, payload: bytes, *, correlation: bytes | None = None, retain: bool = False
    ) -> mqtt.MQTTMessageInfo | None:
        """QoS 1 publish within the broker's Receive Maximum (its handle for :meth:`puback`);
        None when stopping meanwhile."""
        if not self._acks.acquire(self.stopping):
            return None
        props = CorrelationOnly(correlation) if self.v5 and correlation is not None else None
        return self.client.publish(
            topic, payload, qos=1, retain=retain, properties=cast(Properties, props)
        )

    def puback(self, sent: mqtt.MQTTMessageInfo, timeout_s: float) -> bool | None:
        """Wait up to ``timeout_s`` for the broker's PUBACK of a :meth:`publish`: True when it
        accepted the message for a subscriber; False when it refused it (an MQTT 5 reason
        code >= 0x80), had no subscriber for it (MQTT 5: 0x10; 3.1.1 cannot tell), or the
        publish failed in the client; None when no PUBACK came in time."""
        try:
            sent.wait_for_publish(timeout_s)
            if not sent.is_published():
                return None
        except (RuntimeError, ValueError):  # not queued, or written to a dead connection
            return False
        return self._refused.pop(sent.mid, None) is None

    def ack(self, msgs: list[Msg]) -> None:
        """PUBACK these messages (their batch is committed); subscriptions are QoS 1."""
        self.client.ack_many([m.mid for m in msgs if m.qos == 1])
        for m in msgs:
            if m.qos == 2:  # not granted by our QoS 1 subscriptions; kept correct regardless
                self.client.ack(m.mid, m.qos)

    # --- paho callbacks (network thread) ----------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.error("broker refused the portal: %s", rc)
            return
        limit = getattr(_p, "ReceiveMaximum", None) if _p is not None else None
        default = RECEIVE_MAXIMUM_5 if self.v5 else RECEIVE_MAXIMUM_3
        self._acks.reset(int(limit) if limit else default)
        log.info("portal connected (session present: %s)", flags.session_present)
        self._subscribe()

    def _subscribe(self) -> None:
        if self.client.is_connected():
            _rc, self._sub_mid = self.client.subscribe([(t, 1) for t in self._filters])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: Any, _p: Any = None
    ) -> None:
        if mid != self._sub_mid:
            return
        refused = refused_subscriptions(reason_codes)
        if refused:  # not connected until the broker grants every subscription
            self.suback_failures += 1
            delay = self._resubscribe.next()
            log.error("broker refused portal subscription(s) %s; retry in %.0f s", refused, delay)
            timer = threading.Timer(delay, self._subscribe)
            timer.daemon = True
            timer.start()
            return
        self._resubscribe.reset()
        log.info("portal subscribed")
        self.connected.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()
        self._next_node("lost")
        self._acks.reset(self._acks.limit)  # paho forgets unacknowledged QoS 1 publishes

    def _on_connect_fail(self, *_a: Any) -> None:
        # paho retries the same address after a refused or timed-out TCP connect and calls
        # on_disconnect only for a connection it had: without this, a worker whose turn came
        # to a dead node would knock on it until that node returned
        self._next_node("could not reach")

    def _next_node(self, what: str) -> None:
        """Point the next (re)connect at the next node of the cluster, if there is one."""
        if len(self._brokers) > 1 and not self.stopping.is_set():
            host, port = self._brokers[self._next_broker]
            self._next_broker = (self._next_broker + 1) % len(self._brokers)
            nxt_host, nxt_port = self._brokers[self._next_broker]
            log.warning("portal %s %s:%d; next try %s:%d", what, host, port, nxt_host, nxt_port)
            self._connect(nxt_host, nxt_port)

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        # called before paho marks the publish's handle published (puback reads this after)
        if getattr(reason, "is_failure", False):
            log.warning("broker refused a portal publish: %s", reason)
            self._refused[mid] = str(reason)
        elif getattr(reason, "value", 0) == NO_MATCHING_SUBSCRIBERS:
            self._refused[mid] = str(reason)
        else:
            self._refused.pop(mid, None)
        self._acks.release()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        props = msg.properties
        self._queue.put(
            Msg(
                msg.topic,
                bytes(msg.payload),
                getattr(props, "CorrelationData", None) if props is not None else None,
                msg.mid,
                msg.qos,
            )
        )

    # --- batch thread -------------------------------------------------------------------
    def _work(self) -> None:
        assert self._handler is not None
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            size = len(first.payload)
            stop = False
            # a trickle (heartbeats spread over the interval) waits up to linger_s for company:
            # one transaction for many instead of one commit each; a backlog fills at once
            deadline = time.monotonic() + self._linger
            while len(batch) < self._batch and size < self._batch_bytes:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
                size += len(nxt.payload)
            try:
                self._handler(batch)
            except Exception:  # a bug must not end the portal; nothing unstored is acked
                log.exception("portal batch of %d failed; left unacknowledged", len(batch))
            if stop:
                return


def run_until_signalled(start: Callable[[], None], stop: Callable[[], None]) -> None:
    """Start, wait for SIGTERM or SIGINT, stop (a portal process's main loop)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    start()
    done.wait()
    stop()
