"""paho-mqtt wrapper: MQTT 5 or 3.1.1, TLS, last will, retained availability, reconnect.

paho's callbacks run on its network thread; this wrapper only turns them into small event
objects handed to ``on_event`` (the relay's queue). paho's own RAM queue is not trusted: it is
emptied on every disconnect, and the relay re-publishes from the SQLite outbox on reconnect.

The link counts as up only once the broker granted every subscription (SUBACK checked): a
refused subscription is retried with back-off while the link reports itself down. Reconnects
wait a fully jittered, capped delay so a fleet does not reconnect in lock-step.
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.config import UplinkConfig
from kiosk.uplink.topics import TOPICS, Name, device_topic, downlink_filters

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.perlinsos.frame; v=2"
ONLINE, OFFLINE = b"online", b"offline"


@dataclass(frozen=True)
class Connected:
    """The broker accepted our CONNECT."""


@dataclass(frozen=True)
class Disconnected:
    """The connection is gone (or a connect attempt failed); ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class PubAck:
    """The broker answered a QoS 1 publish; ``reason_code`` >= 0x80 is a refusal."""

    mid: int
    reason_code: int
    reason: str


@dataclass(frozen=True)
class Inbound:
    """A message arrived on one of our subscriptions."""

    topic: str
    payload: bytes
    correlation: bytes | None


Event = Connected | Disconnected | PubAck | Inbound

RECONNECT_CAP_S = 60.0
"""Longest wait between reconnect attempts, seconds (also bounded by ``backoff_max_s``)."""


class FullJitter:
    """Delays for attempt 1, 2, ...: uniform in [0, min(cap, base * 2^(attempt-1))]."""

    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self._base = max(0.05, base_s)
        self._cap = max(self._base, cap_s)
        self._rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        """The next delay, seconds (the attempt count goes up)."""
        self.attempt += 1
        ceiling = min(self._cap, self._base * 2 ** min(self.attempt - 1, 30))
        return self._rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        """A success: start again from the shortest delay."""
        self.attempt = 0


def mqtt_version(protocol: str) -> mqtt.MQTTProtocolVersion:
    """paho's constant for ``[uplink] protocol``."""
    return mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311


def refused_subscriptions(reason_codes: Any) -> list[str]:
    """The SUBACK reason codes that are refusals (>= 0x80), in words."""
    out = []
    for rc in reason_codes or []:
        value = int(getattr(rc, "value", rc))
        if value >= 0x80:
            out.append(f"{rc} (0x{value:02x})")
    return out


class MqttLink:
    """One device's connection to the broker."""

    def __init__(
        self, cfg: UplinkConfig, device_id: str, on_event: Callable[[Event], None]
    ) -> None:
        self._cfg = cfg
        self._device_id = device_id
        self._on_event = on_event
        self.last_error: str | None = None
        self._availability = device_topic(cfg.topic_prefix, device_id, Name.AVAILABILITY)
        self._v5 = cfg.protocol == "5"
        self._reconnect = FullJitter(cfg.backoff_initial_s, min(cfg.backoff_max_s, RECONNECT_CAP_S))
        self._resubscribe = FullJitter(1.0, 30.0)
        self._ready = False
        self._sub_mid: int | None = None
        self._timer: threading.Timer | None = None
        self.suback_failures = 0
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=device_id,
            protocol=mqtt_version(cfg.protocol),
            reconnect_on_failure=True,
            clean_session=None if self._v5 else True,
        )
        if cfg.tls is not None:
            c.tls_set(
                ca_certs=str(cfg.tls.ca_file),
                certfile=str(cfg.tls.cert_file),
                keyfile=str(cfg.tls.key_file),
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        c.will_set(self._availability, OFFLINE, qos=1, retain=True)
        self._set_reconnect_delay(c)
        c.max_inflight_messages_set(cfg.inflight_window + 8)
        c.on_connect = self._connected
        c.on_connect_fail = self._connect_failed
        c.on_disconnect = self._disconnected
        c.on_publish = self._published
        c.on_message = self._message
        c.on_subscribe = self._subscribed
        self._client = c

    def _set_reconnect_delay(self, client: mqtt.Client) -> None:
        """paho waits ``min_delay`` after a reset; set both bounds to one jittered delay (paho
        itself would double without jitter: a fleet would reconnect in lock-step)."""
        delay = self._reconnect.next()
        client.reconnect_delay_set(min_delay=delay, max_delay=delay)  # type: ignore[arg-type]

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background and keep reconnecting until :meth:`stop`."""
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 0
            # the broker drops (never sends) anything larger than our biggest inbound topic
            props.MaximumPacketSize = max(t.max_bytes for t in TOPICS.values()) + 64 * 1024
            self._client.connect_async(
                self._cfg.host,
                self._cfg.port,
                keepalive=self._cfg.keepalive_s,
                clean_start=True,
                properties=props,
            )
        else:
            self._client.connect_async(
                self._cfg.host, self._cfg.port, keepalive=self._cfg.keepalive_s
            )
        self._client.loop_start()

    def stop(self) -> None:
        """Say 'offline' (retained), disconnect cleanly and stop the network thread."""
        self._cancel_timer()
        if self._client.is_connected():
            info = self._client.publish(self._availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        """True while the broker connection is up and every subscription was granted."""
        return self._ready and bool(self._client.is_connected())

    # --- publishing -------------------------------------------------------------------
    def publish_records(self, kind: str, record_ids: list[str], payload: bytes) -> int | None:
        """Publish one signed frame of sealed records (QoS 1) with Response Topic, and
        Correlation Data when it holds a single record (its id).

        Returns the MQTT message id, or None when not connected (nothing was queued).
        """
        props = self._props(
            device_topic(self._cfg.topic_prefix, self._device_id, Name.ACK),
            record_ids[0] if len(record_ids) == 1 else None,
        )
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, kind), payload, props, False
        )

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> int | None:
        """Publish a sealed request (QoS 1) whose answer comes on ``<kind minus _request>_reply``.

        Response Topic = this device's reply topic, Correlation Data = ``request_id``.
        """
        reply = kind.removesuffix("_request") + "_reply"
        props = self._props(
            device_topic(self._cfg.topic_prefix, self._device_id, reply), request_id
        )
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, kind), payload, props, False
        )

    def publish_json(self, name: str, payload: bytes) -> int | None:
        """Publish a JSON message (heartbeat) on topic ``name`` (QoS 1)."""
        props = None
        if self._v5:
            props = Properties(PacketTypes.PUBLISH)
            props.ContentType = "application/json"
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, name),
            payload,
            props,
            TOPICS[name].retained,
        )

    def _props(self, response_topic: str, correlation: str | None) -> Properties | None:
        """MQTT 5 request properties (an optimisation: the signed payloads carry the same)."""
        if not self._v5:
            return None
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        if correlation is not None:
            props.CorrelationData = correlation.encode()
        props.ContentType = CONTENT_TYPE
        return props

    def _publish(
        self, topic: str, payload: bytes, props: Properties | None, retain: bool
    ) -> int | None:
        if not self.connected:
            return None
        info = self._client.publish(topic, payload, qos=1, retain=retain, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._drop_queued()
            return None
        return int(info.mid)

    def _drop_queued(self) -> None:
        """Forget paho's RAM copies of unacknowledged publishes; the outbox has them."""
        lock = getattr(self._client, "_out_message_mutex", None)
        queue = getattr(self._client, "_out_messages", None)
        if lock is not None and queue is not None:
            with lock:
                queue.clear()

    # --- paho callbacks (network thread) ----------------------------------------------
    def _connected(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            self.last_error = f"broker refused connection: {rc}"
            log.warning("%s", self.last_error)
            self._set_reconnect_delay(client)
            return
        self._ready = False
        self._subscribe()

    def _subscribe(self) -> None:
        """Ask for every downlink topic; :meth:`_subscribed` checks the broker's answer."""
        self._timer = None
        if not self._client.is_connected():
            return
        topics = downlink_filters(self._cfg.topic_prefix, self._device_id)
        _rc, mid = self._client.subscribe([(t, 1) for t in topics])
        self._sub_mid = mid

    def _subscribed(
        self, client: mqtt.Client, _u: Any, mid: int, reason_codes: Any, _p: Any = None
    ) -> None:
        if mid != self._sub_mid:
            return
        refused = refused_subscriptions(reason_codes)
        if refused:
            # hearing nothing while looking online is the failure mode: stay down, retry
            self.suback_failures += 1
            delay = self._resubscribe.next()
            self.last_error = (
                f"broker refused {len(refused)} subscription(s): {refused[0]}; "
                f"retrying in {delay:.0f} s"
            )
            log.error("%s", self.last_error)
            self._cancel_timer()
            self._timer = threading.Timer(delay, self._subscribe)
            self._timer.daemon = True
            self._timer.start()
            return
        self._resubscribe.reset()
        self._reconnect.reset()
        self._set_reconnect_delay(client)
        self.last_error = None
        self._ready = True
        client.publish(self._availability, ONLINE, qos=1, retain=True)
        log.info("uplink connected to %s:%s", self._cfg.host, self._cfg.port)
        self._on_event(Connected())

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _connect_failed(self, client: mqtt.Client, _u: Any) -> None:
        self.last_error = "cannot connect to the broker (network, TLS or certificate problem)"
        log.warning("%s", self.last_error)
        self._set_reconnect_delay(client)

    def _disconnected(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        self._ready = False
        self._cancel_timer()
        self._drop_queued()
        reason = str(rc)
        if rc.is_failure:
            self.last_error = f"disconnected: {reason}"
        self._set_reconnect_delay(client)
        self._on_event(Disconnected(reason))

    def _published(self, _client: mqtt.Client, _u: Any, mid: int, rc: Any, _p: Any = None) -> None:
        self._on_event(PubAck(int(mid), int(rc.value), str(rc)))

    def _message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        corr = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        self._on_event(Inbound(msg.topic, bytes(msg.payload), corr))
