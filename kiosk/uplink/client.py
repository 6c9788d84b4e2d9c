"""paho-mqtt wrapper: MQTT 5, TLS, last will, retained availability, automatic reconnect.

paho's callbacks run on its network thread; this wrapper only turns them into small event
objects handed to ``on_event`` (the relay's queue). paho's own RAM queue is not trusted: it is
emptied on every disconnect, and the relay re-publishes from the SQLite outbox on reconnect.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.config import UplinkConfig
from kiosk.uplink.topics import TOPICS, device_topic, downlink_filters

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.perlinsos.envelope+json; v=1"
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


class MqttLink:
    """One device's connection to the broker."""

    def __init__(
        self, cfg: UplinkConfig, device_id: str, on_event: Callable[[Event], None]
    ) -> None:
        self._cfg = cfg
        self._device_id = device_id
        self._on_event = on_event
        self.last_error: str | None = None
        self._availability = device_topic(cfg.topic_prefix, device_id, "availability")
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=device_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
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
        c.reconnect_delay_set(
            min_delay=max(1, int(cfg.backoff_initial_s)),
            max_delay=max(1, int(min(cfg.backoff_max_s, 60))),
        )
        c.max_inflight_messages_set(cfg.inflight_window + 8)
        c.on_connect = self._connected
        c.on_connect_fail = self._connect_failed
        c.on_disconnect = self._disconnected
        c.on_publish = self._published
        c.on_message = self._message
        self._client = c

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background and keep reconnecting until :meth:`stop`."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self._client.connect_async(
            self._cfg.host,
            self._cfg.port,
            keepalive=self._cfg.keepalive_s,
            clean_start=True,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Say 'offline' (retained), disconnect cleanly and stop the network thread."""
        if self._client.is_connected():
            info = self._client.publish(self._availability, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return bool(self._client.is_connected())

    # --- publishing -------------------------------------------------------------------
    def publish_record(self, kind: str, record_id: str, payload: bytes) -> int | None:
        """Publish one sealed record (QoS 1) with Response Topic and Correlation Data.

        Returns the MQTT message id, or None when not connected (nothing was queued).
        """
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = device_topic(self._cfg.topic_prefix, self._device_id, "ack")
        props.CorrelationData = record_id.encode()
        props.ContentType = CONTENT_TYPE
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, kind), payload, props, False
        )

    def publish_request(self, kind: str, request_id: str, payload: bytes) -> int | None:
        """Publish a sealed request (QoS 1) whose answer comes on ``<kind minus _request>_reply``.

        Response Topic = this device's reply topic, Correlation Data = ``request_id``.
        """
        reply = kind.removesuffix("_request") + "_reply"
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = device_topic(self._cfg.topic_prefix, self._device_id, reply)
        props.CorrelationData = request_id.encode()
        props.ContentType = CONTENT_TYPE
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, kind), payload, props, False
        )

    def publish_json(self, name: str, payload: bytes) -> int | None:
        """Publish a JSON message (heartbeat) on topic ``name`` (QoS 1)."""
        props = Properties(PacketTypes.PUBLISH)
        props.ContentType = "application/json"
        return self._publish(
            device_topic(self._cfg.topic_prefix, self._device_id, name),
            payload,
            props,
            TOPICS[name].retained,
        )

    def _publish(self, topic: str, payload: bytes, props: Properties, retain: bool) -> int | None:
        if not self._client.is_connected():
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
            return
        self.last_error = None
        client.publish(self._availability, ONLINE, qos=1, retain=True)
        client.subscribe(
            [(t, 1) for t in downlink_filters(self._cfg.topic_prefix, self._device_id)]
        )
        log.info("uplink connected to %s:%s", self._cfg.host, self._cfg.port)
        self._on_event(Connected())

    def _connect_failed(self, _client: mqtt.Client, _u: Any) -> None:
        self.last_error = "cannot connect to the broker (network, TLS or certificate problem)"
        log.warning("%s", self.last_error)

    def _disconnected(
        self, _client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None
    ) -> None:
        self._drop_queued()
        reason = str(rc)
        if rc.is_failure:
            self.last_error = f"disconnected: {reason}"
        self._on_event(Disconnected(reason))

    def _published(self, _client: mqtt.Client, _u: Any, mid: int, rc: Any, _p: Any = None) -> None:
        self._on_event(PubAck(int(mid), int(rc.value), str(rc)))

    def _message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        corr = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        self._on_event(Inbound(msg.topic, bytes(msg.payload), corr))
