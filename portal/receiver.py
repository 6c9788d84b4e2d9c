"""Reference portal receiver: the contract a portal team implements, and what tests talk to.

* Persistent session (MQTT 5: clean start false + a session expiry interval; 3.1.1: clean
  session false), so the broker queues kiosk records while the portal is down.
* Every reply to a kiosk (ack, status, config, roster) is signed with the portal's Ed25519
  signing key (kiosk/uplink/replies.py); the kiosk refuses anything else.
* SUBACK checked: a refused subscription is retried and the portal does not count as connected.
* Manual acks: a record's PUBACK is sent only after its database transaction committed.
* Each envelope's device signature is checked and it is decrypted with the portal key; records
  are stored once per (device id, record id) and a duplicate is acknowledged as success.
* Application ack on the device's ack topic (its Response Topic) with the Correlation Data;
  the ack means "received" (later decisions go out as ``status`` messages). Group commit: up
  to ``batch`` records per transaction.

    python -m portal.receiver --broker 127.0.0.1:8883 --db portal.sqlite3 \
        --private-key portal_x25519.pem --device-keys DIR \
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.crypto.envelope import open_envelope, peek
from kiosk.crypto.keys import (
    load_device_public_key,
    load_portal_private_key,
    load_signing_private_key,
)
from kiosk.errors import CryptoError, ProtocolError
from kiosk.reports.recipients import sign_list
from kiosk.uplink import messages
from kiosk.uplink.client import FullJitter, mqtt_version, refused_subscriptions
from kiosk.uplink.replies import ack_messages, sign_reply
from kiosk.uplink.topics import RECORD_KINDS, device_topic, parse_topic, uplink_filters
from portal.references import PortalReferences
from portal.store import Incoming, PortalStore

log = logging.getLogger("portal")


@dataclass(frozen=True)
class TlsFiles:
    """The portal's TLS client material."""

    ca: Path
    cert: Path
    key: Path


@dataclass(frozen=True)
class _Msg:
    topic: str
    payload: bytes
    response_topic: str | None
    correlation: bytes | None
    mid: int
    qos: int


def device_keys_from_dir(directory: Path) -> Callable[[str], Ed25519PublicKey]:
    """Device key lookup: ``<directory>/<device_id>.pem`` holds each enrolled device's key."""

    cache: dict[str, tuple[float, Ed25519PublicKey]] = {}

    def lookup(device_id: str) -> Ed25519PublicKey:
        if "/" in device_id or device_id.startswith("."):
            raise CryptoError("bad device id")
        path = directory / f"{device_id}.pem"
        try:
            mtime = path.stat().st_mtime
        except OSError as err:
            raise CryptoError(f"device {device_id} is not enrolled") from err
        hit = cache.get(device_id)
        if hit is None or hit[0] != mtime:  # re-read after re-enrolment
            hit = (mtime, load_device_public_key(path))
            cache[device_id] = hit
        return hit[1]

    return lookup


CONTENT_SCHEMAS = frozenset({"recipient_report", "proposal"})
"""Record kinds whose opened content is validated against its schema (kiosk/uplink/schemas):
an invalid one is rejected (signed ``rejected`` ack), never stored."""


def open_record(
    payload: bytes,
    *,
    device_id: str,
    kind: str,
    record_id: bytes | None,
    private_key: X25519PrivateKey,
    device_keys: Callable[[str], Ed25519PublicKey],
) -> Incoming:
    """Verify and decrypt one sealed record that claims to be ``kind`` from ``device_id``
    (and ``record_id``, when known); the one check for records by MQTT and by USB stick."""
    opened = open_envelope(payload, portal_private_key=private_key, device_public_key=device_keys)
    if opened.device_id != device_id:
        raise ProtocolError("envelope device id does not match the topic")
    if opened.kind != kind:
        raise ProtocolError("envelope kind does not match the topic")
    if record_id is not None and record_id != opened.record_id.encode():
        raise ProtocolError("correlation data does not match the envelope record id")
    if kind in CONTENT_SCHEMAS:
        messages.check(kind, opened.record)
        if opened.record.get("record_id") != opened.record_id:
            raise ProtocolError("record id inside the record does not match the envelope")
    return Incoming(device_id, opened.record_id, opened.kind, opened.record)


class PortalReceiver:
    """Subscribes to every kiosk's records, stores them once, acknowledges them."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        db_path: Path,
        private_key: X25519PrivateKey,
        signing_key: Ed25519PrivateKey,
        device_keys: Callable[[str], Ed25519PublicKey],
        tls: TlsFiles | None = None,
        protocol: str = "5",
        prefix: str = "perlinsos/v1",
        client_id: str = "portal",
        session_expiry_s: int = 7 * 86400,
        batch: int = 256,
        clock: Callable[[], float] = time.time,
        references: PortalReferences | None = None,
    ) -> None:
        self._host, self._port = host, port
        self._prefix = prefix
        self._key = private_key
        self._signing_key = signing_key
        self._v5 = protocol == "5"
        self._device_keys = device_keys
        self._session_expiry = session_expiry_s
        self._batch = batch
        self._clock = clock
        self.references = references  # identity references (portal/references.py), optional
        self.store = PortalStore(db_path)
        self._queue: queue.Queue[_Msg | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.connected = threading.Event()
        self.suback_failures = 0
        self._sub_mid: int | None = None
        self._resubscribe = FullJitter(1.0, 30.0)
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
        c.max_inflight_messages_set(1000)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self._client = c

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect (persistent session) and start processing."""
        self._worker = threading.Thread(target=self._work, name="portal-worker", daemon=True)
        self._worker.start()
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry
            props.ReceiveMaximum = 1000
            self._client.connect_async(
                self._host, self._port, keepalive=10, clean_start=False, properties=props
            )
        else:
            self._client.connect_async(self._host, self._port, keepalive=10)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect (the session and its queue survive on the broker) and stop."""
        self._client.disconnect()
        self._client.loop_stop()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(10)
        self.store.close()

    # --- sending to kiosks ------------------------------------------------------------
    def send_status(
        self, device_id: str, record_id: str, status: str, reason: str | None = None
    ) -> None:
        """Tell a kiosk the decision on one of its records (signed)."""
        msg = {"v": 1, "record_id": record_id, "status": status, "reason": reason}
        msg["at"] = self._clock()
        self._client.publish(
            device_topic(self._prefix, device_id, "status"),
            sign_reply("status", device_id, msg, self._signing_key),
            qos=1,
        )
        self.store.set_status(device_id, record_id, status)

    def send_config(self, device_id: str, version: int, settings: dict[str, Any]) -> None:
        """Publish (retained, signed) remote settings for a kiosk."""
        msg = {"v": 1, "config_version": version, "settings": settings}
        self._client.publish(
            device_topic(self._prefix, device_id, "config"),
            sign_reply("config", device_id, msg, self._signing_key),
            qos=1,
            retain=True,
        )

    def send_roster(self, device_id: str, version: int, agents: list[dict[str, Any]]) -> None:
        """Publish (retained, signed) the agents allowed on a kiosk (PIN hashes, templates)."""
        msg = {"v": 1, "roster_version": version, "agents": agents}
        self._client.publish(
            device_topic(self._prefix, device_id, "roster"),
            sign_reply("roster", device_id, msg, self._signing_key),
            qos=1,
            retain=True,
        )

    def send_recipients(self, device_id: str, body: dict[str, Any]) -> bytes:
        """Publish (retained, signed) the village's recipient list to a kiosk: ``body`` =
        {village_code, list_version, issued_at, dusun, households} (names + dusun/RT only)."""
        payload = sign_list(body, self._signing_key)
        self._client.publish(
            device_topic(self._prefix, device_id, "recipients"), payload, qos=1, retain=True
        )
        return payload

    def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish arbitrary bytes (for fuzz tests of the kiosk's inbound validation)."""
        self._client.publish(topic, payload, qos=1, retain=retain)

    # --- paho callbacks -----------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.error("broker refused the portal: %s", rc)
            return
        log.info("portal connected (session present: %s)", flags.session_present)
        self._subscribe()

    def _subscribe(self) -> None:
        if not self._client.is_connected():
            return
        _rc, self._sub_mid = self._client.subscribe([(t, 1) for t in uplink_filters(self._prefix)])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: Any, _p: Any = None
    ) -> None:
        if mid != self._sub_mid:
            return
        refused = refused_subscriptions(reason_codes)
        if refused:  # not connected until the broker grants every kiosk topic
            self.suback_failures += 1
            delay = self._resubscribe.next()
            log.error("broker refused portal subscription(s) %s; retry in %.0f s", refused, delay)
            timer = threading.Timer(delay, self._subscribe)
            timer.daemon = True
            timer.start()
            return
        self._resubscribe.reset()
        self.connected.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        props = msg.properties
        self._queue.put(
            _Msg(
                msg.topic,
                bytes(msg.payload),
                getattr(props, "ResponseTopic", None) if props else None,
                getattr(props, "CorrelationData", None) if props else None,
                msg.mid,
                msg.qos,
            )
        )

    # --- worker -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._process(batch)
                    return
                batch.append(nxt)
            try:
                self._process(batch)
            except Exception:  # never ack what was not stored; the broker will redeliver
                log.exception("portal batch failed; messages left unacknowledged")

    def _process(self, batch: list[_Msg]) -> None:
        now = self._clock()
        records: list[tuple[_Msg, Incoming]] = []
        replies: list[tuple[_Msg, str | None, str, str | None]] = []
        for m in batch:
            parsed = parse_topic(self._prefix, m.topic)
            if parsed is None:
                continue
            device_id, name = parsed
            if name in RECORD_KINDS:
                try:
                    records.append((m, self._open(m, device_id, name)))
                except (CryptoError, ProtocolError) as err:
                    rid = _record_id(m.correlation) or _envelope_record_id(m.payload)
                    self.store.reject(device_id, rid, str(err), now)
                    log.warning("record from %s rejected: %s", device_id, err)
                    if rid is not None and self.store.get(device_id, rid) is not None:
                        # held already: a bad copy (or a forgery naming it) must not kill it
                        replies.append((m, rid, "duplicate", None))
                    else:
                        replies.append((m, rid, "rejected", str(err)))
            elif name == "verify_request" and self.references is not None:
                self._answer_verify(m, device_id)
            elif name == "heartbeat":
                try:
                    self.store.heartbeat(device_id, messages.parse("heartbeat", m.payload), now)
                except ProtocolError as err:
                    log.warning("heartbeat from %s rejected: %s", device_id, err)
            elif name == "availability" and m.payload in (b"online", b"offline"):
                self.store.availability(device_id, m.payload.decode(), now)
        fresh = self.store.put_many([inc for _m, inc in records], now)  # the commit
        for (m, inc), new in zip(records, fresh, strict=True):
            replies.append((m, inc.record_id, "stored" if new else "duplicate", None))
        self._send_acks(replies)
        if self.references is not None:  # registrations captured "pending verification"
            for (_m, inc), new in zip(records, fresh, strict=True):
                if new and inc.kind == "registration":
                    decided = self.references.verify_pending(inc.record)
                    if decided is not None:
                        self.send_status(inc.device_id, inc.record_id, decided)
        for m in batch:  # PUBACK only now: everything above is committed
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)

    def _open(self, m: _Msg, device_id: str, kind: str) -> Incoming:
        return open_record(
            m.payload,
            device_id=device_id,
            kind=kind,
            record_id=m.correlation,
            private_key=self._key,
            device_keys=self._device_keys,
        )

    def publish_references(self, device_id: str, payload: bytes) -> None:
        """Publish (retained) a signed reference set or revocation to a kiosk."""
        revoke = b'"kind":"reference_revoke"' in payload
        name = "references_revoke" if revoke else "references"
        if revoke:  # the revoked set must not stay retained on the broker
            self._client.publish(
                device_topic(self._prefix, device_id, "references"), b"", qos=1, retain=True
            )
        self._client.publish(
            device_topic(self._prefix, device_id, name), payload, qos=1, retain=True
        )

    def _answer_verify(self, m: _Msg, device_id: str) -> None:
        """Answer an online verification request on the device's own verify_reply topic."""
        assert self.references is not None
        try:
            opened = self._open(m, device_id, "verify_request")
            reply = self.references.answer(device_id, opened.record)
        except (CryptoError, ProtocolError) as err:
            log.warning("verify request from %s rejected: %s", device_id, err)
            return
        props = None
        if self._v5:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = opened.record_id.encode()
        self._client.publish(
            device_topic(self._prefix, device_id, "verify_reply"), reply, qos=1, properties=props
        )

    def _send_acks(self, replies: list[tuple[_Msg, str | None, str, str | None]]) -> None:
        """One signed ack message per device for this batch (one signature, one verify at the
        kiosk, instead of one per record), on the device's own ack topic only."""
        by_device: dict[str, list[dict[str, Any]]] = {}
        correlation: dict[str, bytes | None] = {}
        for m, rid, result, reason in replies:
            parsed = parse_topic(self._prefix, m.topic)
            assert parsed is not None
            by_device.setdefault(parsed[0], []).append(
                {"record_id": rid, "result": result, "reason": reason}
            )
            correlation[parsed[0]] = m.correlation
            own_ack = device_topic(self._prefix, parsed[0], "ack")
            if m.response_topic not in (None, own_ack):
                log.warning("ignored foreign response topic %r", m.response_topic)
        for device_id, entries in by_device.items():
            single = correlation[device_id] if len(entries) == 1 else None
            for payload in ack_messages(device_id, entries, self._signing_key, self._clock()):
                self._publish_ack(device_id, payload, single)

    def _publish_ack(self, device_id: str, payload: bytes, correlation: bytes | None) -> None:
        props = None
        if self._v5 and correlation is not None:
            props = Properties(PacketTypes.PUBLISH)  # an optimisation; the body is what counts
            props.CorrelationData = correlation
        self._client.publish(
            device_topic(self._prefix, device_id, "ack"), payload, qos=1, properties=props
        )


def _envelope_record_id(payload: bytes) -> str | None:
    """The record id an envelope names (MQTT 3.1.1 has no Correlation Data), if readable."""
    try:
        rid = peek(payload)["record_id"]
    except CryptoError:
        return None
    return rid if isinstance(rid, str) else None


def _record_id(correlation: bytes | None) -> str | None:
    if correlation is None:
        return None
    try:
        return correlation.decode("ascii")
    except UnicodeDecodeError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Run the reference receiver until SIGINT/SIGTERM."""
    p = argparse.ArgumentParser(prog="python -m portal.receiver", description=__doc__)
    p.add_argument("--broker", required=True, help="host:port")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--private-key", type=Path, required=True, help="portal X25519 key, PEM")
    p.add_argument(
        "--signing-key", type=Path, required=True, help="portal Ed25519 reply-signing key, PEM"
    )
    p.add_argument("--protocol", choices=("5", "3.1.1"), default="5", help="MQTT version")
    p.add_argument("--device-keys", type=Path, required=True, help="dir of <device_id>.pem")
    p.add_argument("--ca", type=Path)
    p.add_argument("--cert", type=Path)
    p.add_argument("--key", type=Path)
    p.add_argument("--prefix", default="perlinsos/v1")
    p.add_argument("--client-id", default="portal")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    host, _, port = args.broker.rpartition(":")
    tls = TlsFiles(args.ca, args.cert, args.key) if args.ca else None
    rx = PortalReceiver(
        host=host or "127.0.0.1",
        port=int(port),
        db_path=args.db,
        private_key=load_portal_private_key(args.private_key),
        signing_key=load_signing_private_key(args.signing_key),
        device_keys=device_keys_from_dir(args.device_keys),
        tls=tls,
        protocol=args.protocol,
        prefix=args.prefix,
        client_id=args.client_id,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    rx.start()
    done.wait()
    rx.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
