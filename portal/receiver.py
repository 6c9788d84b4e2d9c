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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.crypto.keys import load_portal_private_key, load_signing_private_key
from kiosk.errors import CryptoError, ProtocolError
from kiosk.reports.recipients import sign_list
from kiosk.uplink.replies import sign_reply, status_message
from kiosk.uplink.topics import Name, device_topic
from portal.family_cards import FamilyDesk, SqliteFamilyIndex
from portal.ingest.store import SqliteIngestStore
from portal.ingest.worker import IngestWorker
from portal.intake import DeviceKeys, Opened, Outgoing, device_keys_from_dir, open_record
from portal.link import TlsFiles, run_until_signalled
from portal.queries import QueryLimit
from portal.references import PortalReferences
from portal.status_desk import StatusDesk
from portal.store import PortalStore

__all__ = ["PortalReceiver", "TlsFiles", "device_keys_from_dir", "main", "open_record"]

log = logging.getLogger("portal")


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
        device_keys: DeviceKeys,
        tls: TlsFiles | None = None,
        protocol: str = "5",
        prefix: str = "perlinsos/v1",
        client_id: str = "portal",
        session_expiry_s: int = 7 * 86400,
        batch: int = 256,
        clock: Callable[[], float] = time.time,
        references: PortalReferences | None = None,
    ) -> None:
        self._prefix = prefix
        self._signing_key = signing_key
        self._clock = clock
        self.references = references  # identity references (portal/references.py), optional
        self.store = PortalStore(db_path)
        self.query_limit = QueryLimit(clock=clock)  # per kiosk and desk, in this process
        self.status_desk = StatusDesk(  # status + objections
            db_path, signing_key, limit=self.query_limit, clock=clock
        )
        self.family_index = SqliteFamilyIndex(db_path, clock=clock)  # No. KK at any kiosk
        self.family_desk = FamilyDesk(
            self.family_index, signing_key, limit=self.query_limit, clock=clock
        )
        self._worker = IngestWorker(
            host=host,
            port=port,
            store=SqliteIngestStore(self.store),
            private_key=private_key,
            signing_key=signing_key,
            device_keys=device_keys,
            client_id=client_id,
            tls=tls,
            prefix=prefix,
            group=None,
            protocol=protocol,
            session_expiry_s=session_expiry_s,
            batch=batch,
            services={
                "references": self._references,
                "status": self.status_desk.service,
                "family": self.family_desk.answer_each,
            },
            clock=clock,
        )
        self.link, self.intake = self._worker.link, self._worker.intake
        self.connected = self.link.connected

    @property
    def suback_failures(self) -> int:
        """Refused subscriptions so far."""
        return self.link.suback_failures

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect (persistent session) and start processing."""
        self._worker.start()

    def stop(self) -> None:
        """Disconnect (the session and its queue survive on the broker) and stop."""
        self._worker.stop()  # closes the store
        self.status_desk.close()
        self.family_index.close()

    # --- the references service (portal/kinds.py: answered_by="references") -------------
    def _references(self, kind: str, items: list[Opened]) -> list[Outgoing]:
        """Answer online verification requests; decide registrations captured pending (and
        index new registrations for status and family card queries)."""
        if kind == Name.REGISTRATION:
            self.status_desk.on_records(_fresh(items))
            self.family_index.on_records(_fresh(items))
        refs = self.references
        if refs is None:
            return []
        out: list[Outgoing] = []
        for item in items:
            inc = item.incoming
            if kind == Name.VERIFY_REQUEST:
                try:
                    reply = refs.answer(inc.device_id, inc.record)
                except (CryptoError, ProtocolError) as err:
                    log.warning("verify request from %s rejected: %s", inc.device_id, err)
                    continue
                out.append(
                    Outgoing(inc.device_id, Name.VERIFY_REPLY, reply, inc.record_id.encode())
                )
            elif kind == Name.REGISTRATION and item.new:
                decided = refs.verify_pending(inc.record)
                if decided is not None:
                    out.append(self._status(inc.device_id, inc.record_id, decided))
        return out

    # --- sending to kiosks ------------------------------------------------------------
    def _status(
        self, device_id: str, record_id: str, status: str, reason: str | None = None
    ) -> Outgoing:
        at = self._clock()
        payload = status_message(device_id, record_id, status, reason, at, self._signing_key)
        self.store.set_status(device_id, record_id, status)
        self.status_desk.decided(device_id, record_id, status, reason, at)
        return Outgoing(device_id, Name.STATUS, payload)

    def _send(self, o: Outgoing) -> None:
        self.link.publish(
            device_topic(self._prefix, o.device_id, o.name),
            o.payload,
            correlation=o.correlation,
            retain=o.retain,
        )

    def send_status(
        self, device_id: str, record_id: str, status: str, reason: str | None = None
    ) -> None:
        """Tell a kiosk the decision on one of its records (signed)."""
        self._send(self._status(device_id, record_id, status, reason))

    def send_config(self, device_id: str, version: int, settings: dict[str, Any]) -> None:
        """Publish (retained, signed) remote settings for a kiosk."""
        msg = {"v": 1, "config_version": version, "settings": settings}
        payload = sign_reply(Name.CONFIG, device_id, msg, self._signing_key)
        self._send(Outgoing(device_id, Name.CONFIG, payload, retain=True))

    def send_roster(self, device_id: str, version: int, agents: list[dict[str, Any]]) -> None:
        """Publish (retained, signed) the agents allowed on a kiosk (PIN hashes, templates)."""
        msg = {"v": 1, "roster_version": version, "agents": agents}
        payload = sign_reply(Name.ROSTER, device_id, msg, self._signing_key)
        self._send(Outgoing(device_id, Name.ROSTER, payload, retain=True))

    def send_recipients(self, device_id: str, body: dict[str, Any]) -> bytes:
        """Publish (retained, signed) the village's recipient list to a kiosk: ``body`` =
        {village_code, list_version, issued_at, dusun, households} (names + dusun/RT only)."""
        payload = sign_list(body, self._signing_key)
        self._send(Outgoing(device_id, Name.RECIPIENTS, payload, retain=True))
        return payload

    def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish arbitrary bytes (for fuzz tests of the kiosk's inbound validation)."""
        self.link.publish(topic, payload, retain=retain)

    def publish_references(self, device_id: str, payload: bytes) -> None:
        """Publish (retained) a signed reference set or revocation to a kiosk."""
        revoke = b'"kind":"reference_revoke"' in payload
        if revoke:  # the revoked set must not stay retained on the broker
            self._send(Outgoing(device_id, Name.REFERENCES, b"", retain=True))
        name = Name.REFERENCES_REVOKE if revoke else Name.REFERENCES
        self._send(Outgoing(device_id, name, payload, retain=True))


def _fresh(items: list[Opened]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(device id, record id, kind, record) of the newly stored items."""
    return [
        (i.incoming.device_id, i.incoming.record_id, i.incoming.kind, i.incoming.record)
        for i in items
        if i.new
    ]


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
    run_until_signalled(rx.start, rx.stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
