"""The portal's one intake path: a batch of received messages is opened (each envelope
authenticated to its device and decrypted), written in ONE transaction, then acknowledged
(signed application acks, then PUBACKs). What each kind does comes from :mod:`portal.kinds`.

Used by the reference receiver (SQLite) and the ingest workers (PostgreSQL) alike, and the
envelope check (:func:`open_record`) by the USB import too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.crypto.envelope import OpenedEnvelope, open_envelope, open_framed, peek
from kiosk.crypto.frame import claimed, is_frame, open_frame
from kiosk.crypto.keys import load_device_public_key
from kiosk.errors import CryptoError, ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.replies import ack_messages
from kiosk.uplink.topics import Name, device_topic, parse_topic
from portal.ingest.store import Batch, Beat, IngestStore
from portal.kinds import KINDS, PortalKind, Storage, handled
from portal.link import Msg, PortalLink
from portal.store import Incoming

log = logging.getLogger("portal.intake")


@dataclass(frozen=True)
class Opened:
    """One authenticated, decrypted message of a batch, as a service sees it after the commit."""

    msg: Msg
    incoming: Incoming
    new: bool | None  # stored kinds: True when new, False when already held; None: not stored


@dataclass(frozen=True)
class Outgoing:
    """A reply a service wants published (already signed) on one device's topic ``name``."""

    device_id: str
    name: str
    payload: bytes
    correlation: bytes | None = None
    retain: bool = False


class KindService(Protocol):
    """A portal service named in a kind's ``answered_by``: acts on a batch's opened messages of
    ``kind`` after the commit; returns the replies to publish."""

    def __call__(self, kind: str, items: list[Opened]) -> list[Outgoing]:
        """Handle ``items``; the replies to publish."""
        ...


DeviceKeys = Callable[[str], Ed25519PublicKey]


def device_keys_from_dir(directory: Path) -> DeviceKeys:
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


def open_record(
    payload: bytes,
    *,
    device_id: str,
    kind: str,
    record_id: bytes | None,
    private_key: X25519PrivateKey,
    device_keys: DeviceKeys,
) -> Incoming:
    """Verify and decrypt one sealed record that claims to be ``kind`` from ``device_id``
    (and ``record_id``, when known): the USB stick's check (one envelope, its own signature)."""
    opened = open_envelope(payload, portal_private_key=private_key, device_public_key=device_keys)
    return check_record(opened, device_id=device_id, kind=kind, record_id=record_id)


def check_record(
    opened: OpenedEnvelope, *, device_id: str, kind: str, record_id: bytes | None
) -> Incoming:
    """The checks after decryption, for records by MQTT (in frames) and by USB stick alike:
    device, kind and record id as claimed outside, content as the kind's schema says."""
    if opened.device_id != device_id:
        raise ProtocolError("envelope device id does not match the topic")
    if opened.kind != kind:
        raise ProtocolError("envelope kind does not match the topic")
    if record_id is not None and record_id != opened.record_id.encode():
        raise ProtocolError("correlation data does not match the envelope record id")
    schema = KINDS[kind].content if kind in KINDS else None
    if schema is not None:  # content the kiosk should never have sent: refused, not stored
        messages.check(schema, opened.record)
        if opened.record.get("record_id") != opened.record_id:
            raise ProtocolError("record id inside the record does not match the envelope")
    return Incoming(device_id, opened.record_id, opened.kind, opened.record)


def claimed_record_id(payload: bytes, correlation: bytes | None) -> str | None:
    """The record id a refused envelope claims (Correlation Data, else the envelope field)."""
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


def claimed_record_ids(payload: bytes, correlation: bytes | None) -> list[str]:
    """The record ids a refused frame names (unverified): each envelope's, or the correlation."""
    envelopes = claimed(payload)
    if not envelopes:
        rid = claimed_record_id(b"", correlation) if correlation is not None else None
        return [rid] if rid is not None else []
    ids = [claimed_record_id(env, None) for env in envelopes]
    return [rid for rid in ids if rid is not None]


def filters(prefix: str, kinds: list[PortalKind], group: str | None = None) -> list[str]:
    """Subscriptions for ``kinds`` of every device; shared in ``group`` (MQTT 5) when given."""
    plain = [f"{prefix}/kiosk/+/{k.name}" for k in kinds]
    return [f"$share/{group}/{f}" for f in plain] if group else plain


@dataclass
class Counts:
    """What an intake has done so far."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    heartbeats: int = 0


class Intake:
    """Opens, stores and answers batches of kiosk messages (one transaction per batch)."""

    def __init__(
        self,
        *,
        link: PortalLink,
        store: IngestStore,
        private_key: X25519PrivateKey,
        signing_key: Ed25519PrivateKey,
        device_keys: DeviceKeys,
        services: Mapping[str, KindService] | None = None,
        prefix: str = "perlinsos/v1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._link = link
        self.store = store
        self._key = private_key
        self._signing_key = signing_key
        self._device_keys = device_keys
        self._services = dict(services or {})
        self._prefix = prefix
        self._clock = clock
        self.kinds = {k.name: k for k in handled(frozenset(self._services))}
        self.counts = Counts()

    def process(self, msgs: list[Msg]) -> None:
        """Open, commit, ack, answer and PUBACK one batch (PUBACK only after the commit)."""
        now = self._clock()
        batch = Batch(now)
        opened: list[tuple[PortalKind, Msg, Incoming]] = []  # stored kinds, in batch order
        answered: list[tuple[PortalKind, Msg, Incoming]] = []  # unstored requests
        refused: list[tuple[str, bytes | None, str, str]] = []
        known: dict[str, Ed25519PublicKey] = {}

        def device_key(device_id: str) -> Ed25519PublicKey:  # one key-file check per batch
            key = known.get(device_id)
            if key is None:
                key = known[device_id] = self._device_keys(device_id)
            return key

        for m in msgs:
            parsed = parse_topic(self._prefix, m.topic)
            kind = self.kinds.get(parsed[1]) if parsed is not None else None
            if parsed is None or kind is None:
                continue
            device_id = parsed[0]
            if not kind.sealed:
                self._plain(kind, batch, device_id, m.payload, now)
                continue
            for inc, why, rid in self._open(kind, device_id, m, device_key):
                if inc is not None and kind.storage is Storage.RECORD:
                    why = batch.add(inc)
                if inc is None or why is not None:
                    log.warning("%s from %s rejected: %s", kind.name, device_id, why)
                    if kind.acked:
                        batch.rejections.append((device_id, rid, str(why), now))
                        if rid is not None and is_frame(m.payload):  # format 1: not acked
                            refused.append((device_id, m.correlation, rid, str(why)))
                    continue
                (opened if kind.storage is Storage.RECORD else answered).append((kind, m, inc))
        fresh = self._commit(batch)
        if fresh is None:
            return  # stopping with the database down: unacknowledged, the broker redelivers
        self._ack(opened, fresh, refused)
        self._answer(opened, fresh, answered)
        n_new = sum(fresh)
        c = self.counts
        c.heartbeats += len(batch.heartbeats)
        c.stored += n_new
        c.duplicates += len(fresh) - n_new
        c.rejected += len(batch.rejections)
        self._link.ack(msgs)  # PUBACK only now: everything above is committed

    def _open(
        self, kind: PortalKind, device_id: str, m: Msg, device_key: DeviceKeys
    ) -> list[tuple[Incoming | None, str | None, str | None]]:
        """Each record of one frame: (opened, None, its id) or (None, why not, the id it claims).

        One signature check for the frame; a frame that fails it (or names another device,
        kind, or carries Correlation Data beside several records) refuses every record it
        names. A message in uplink format 1 (a bare envelope) is refused unacknowledged: the
        kiosk keeps it and resends until its software is updated (docs/protocol.md).
        """
        try:
            fr = open_frame(m.payload, device_key)
            if fr.device_id != device_id:
                raise ProtocolError("frame device id does not match the topic")
            if fr.kind != kind.name:
                raise ProtocolError("frame kind does not match the topic")
            if m.correlation is not None and len(fr.envelopes) != 1:
                raise ProtocolError("correlation data on a frame of several records")
        except (CryptoError, ProtocolError) as err:
            ids = claimed_record_ids(m.payload, m.correlation)
            return [(None, str(err), rid) for rid in ids] or [(None, str(err), None)]
        out: list[tuple[Incoming | None, str | None, str | None]] = []
        for env in fr.envelopes:
            try:
                opened = open_framed(
                    env, device_id=fr.device_id, kid=fr.kid, portal_private_key=self._key
                )
                inc = check_record(
                    opened, device_id=device_id, kind=kind.name, record_id=m.correlation
                )
                out.append((inc, None, opened.record_id))
            except (CryptoError, ProtocolError) as err:
                out.append((None, str(err), claimed_record_id(env, m.correlation)))
        return out

    def _plain(
        self, kind: PortalKind, batch: Batch, device_id: str, payload: bytes, now: float
    ) -> None:
        if kind.storage is Storage.AVAILABILITY:
            if payload in (b"online", b"offline"):
                batch.availability[device_id] = (payload.decode(), now)
            return
        try:
            msg = messages.parse(kind.name, payload)
        except ProtocolError as err:
            log.warning("%s from %s rejected: %s", kind.name, device_id, err)
            return
        if msg.get("device_id") != device_id:
            log.warning(
                "%s on %s names device %r: ignored", kind.name, device_id, msg.get("device_id")
            )
            return
        batch.heartbeats[device_id] = Beat(msg, payload.decode(), now)

    def _commit(self, batch: Batch) -> list[bool] | None:
        """Write the batch, retrying while the database is unreachable (None when stopping)."""
        delay = 0.5
        while True:
            try:
                return self.store.write(batch)
            except Exception as err:  # a database outage must not drop or ack anything
                log.warning("portal batch not committed (%s); retrying in %.1f s", err, delay)
            if self._link.stopping.wait(delay):
                return None
            delay = min(delay * 2, 10.0)

    def _ack(
        self,
        opened: list[tuple[PortalKind, Msg, Incoming]],
        fresh: list[bool],
        refused: list[tuple[str, bytes | None, str, str]],
    ) -> None:
        """Signed ack message(s) per device for this batch, on the device's own ack topic."""
        replies: dict[str, list[tuple[bytes | None, dict[str, Any]]]] = {}
        for (_k, m, inc), new in zip(opened, fresh, strict=True):
            result = "stored" if new else "duplicate"
            replies.setdefault(inc.device_id, []).append(
                (m.correlation, {"record_id": inc.record_id, "result": result})
            )
        held = self.store.held([(d, rid) for d, _c, rid, _w in refused]) if refused else set()
        for device_id, corr, rid, reason in refused:
            # held already: a bad copy (or a forgery naming it) must not make the kiosk drop it
            entry = (
                {"record_id": rid, "result": "duplicate"}
                if (device_id, rid) in held
                else {"record_id": rid, "result": "rejected", "reason": reason}
            )
            replies.setdefault(device_id, []).append((corr, entry))
        for device_id, items in replies.items():
            self.publish_acks(device_id, items)

    def publish_acks(
        self, device_id: str, items: list[tuple[bytes | None, dict[str, Any]]]
    ) -> None:
        """Sign and publish the acks ``items`` ((correlation, entry)) of one device."""
        entries = [entry for _corr, entry in items]
        single = items[0][0] if len(items) == 1 else None
        # only ever on the device's own ack topic, whatever Response Topic was asked
        topic = device_topic(self._prefix, device_id, Name.ACK)
        for payload in ack_messages(device_id, entries, self._signing_key, self._clock()):
            if not self._link.publish(topic, payload, correlation=single):
                return  # stopping: the kiosk resends after its ack timeout and gets "duplicate"

    def _answer(
        self,
        opened: list[tuple[PortalKind, Msg, Incoming]],
        fresh: list[bool],
        answered: list[tuple[PortalKind, Msg, Incoming]],
    ) -> None:
        """Hand each service its kinds' opened messages; publish what it answers."""
        by_service: dict[tuple[str, str], list[Opened]] = {}
        for (k, m, inc), new in zip(opened, fresh, strict=True):
            if k.answered_by in self._services:
                by_service.setdefault((k.answered_by, k.name), []).append(Opened(m, inc, new))
        for k, m, inc in answered:
            assert k.answered_by is not None
            by_service.setdefault((k.answered_by, k.name), []).append(Opened(m, inc, None))
        for (service, kind), items in by_service.items():
            try:
                out = self._services[service](kind, items)
            except Exception:  # a failing service must not hold back the commit's acks
                log.exception(
                    "portal service %s failed on %d %s message(s)", service, len(items), kind
                )
                continue
            for o in out:
                self._link.publish(
                    device_topic(self._prefix, o.device_id, o.name),
                    o.payload,
                    correlation=o.correlation,
                    retain=o.retain,
                )
