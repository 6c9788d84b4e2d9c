"""The reference portal's identity references: the registry's templates, and what it sends.

* Village reference sets and revocations, signed with the portal's Ed25519 key (the kiosk
  trusts ``<data_dir>/keys/portal_ed25519.pub.pem``), published retained per kiosk.
* Answers to online verification requests (signed ``verify_reply``, correlation = request id).
* Verification of registrations captured *pending*: the portal matches the sealed live
  template against its registry reference and, on a HIGH match, sends status ``verified``.

The registry here is an in-memory table filled by tests and demos (``add``); a real portal
reads the population registry (Dukcapil) instead. Thresholds are the kiosk's defaults.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import BiometricsConfig
from kiosk.core.biometrics import match_band
from kiosk.crypto.keys import public_pem, write_private_key
from kiosk.crypto.signed import sign_message
from kiosk.errors import ProtocolError
from kiosk.references.message import (
    ReferenceEntry,
    check_template,
    reference_set_body,
    revocation_body,
)
from kiosk.uplink import messages
from kiosk.uplink.topics import Name

log = logging.getLogger("portal.references")


@dataclass(frozen=True)
class RegistryEntry:
    """One person in the registry: village, household card, initials, face template (KFT1)."""

    village_code: str
    kk: str
    initials: str
    template: bytes


def make_signing_key(directory: Path) -> tuple[Ed25519PrivateKey, Path]:
    """Create the portal's Ed25519 signing key (``portal_ed25519.pem``, 0600) and its public
    PEM ``portal_ed25519.pub.pem`` (copy it to each kiosk's ``<data_dir>/keys``)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    write_private_key(directory / "portal_ed25519.pem", key)
    public = directory / "portal_ed25519.pub.pem"
    public.write_bytes(public_pem(key))
    return key, public


def _vector(template: bytes) -> np.ndarray:
    check_template(template)
    v = np.frombuffer(template[4:], dtype="<f4").astype(np.float32)
    return v / float(np.linalg.norm(v))


class PortalReferences:
    """The registry's references and the signed messages built from them (thread-safe)."""

    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        *,
        thresholds: BiometricsConfig | None = None,
        clock: Callable[[], float] = time.time,
        ttl_s: float = 30 * 86400.0,
    ) -> None:
        self._key = signing_key
        self._t = thresholds or BiometricsConfig()
        self._clock = clock
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._registry: dict[str, RegistryEntry] = {}

    # --- registry ---------------------------------------------------------------------
    def add(self, nik: str, entry: RegistryEntry) -> None:
        """Put one person's reference in the registry."""
        check_template(entry.template)
        with self._lock:
            self._registry[nik] = entry

    def remove(self, nik: str) -> None:
        """Drop one person's reference."""
        with self._lock:
            self._registry.pop(nik, None)

    def band(self, nik: str, template: bytes) -> str | None:
        """Match band of ``template`` against the registry reference of ``nik`` (None: none)."""
        with self._lock:
            entry = self._registry.get(nik)
        if entry is None:
            return None
        sim = float(np.dot(_vector(template), _vector(entry.template)))
        t = self._t
        return match_band(sim, t.match_high, t.match_medium, t.match_low).value

    # --- messages ---------------------------------------------------------------------
    def reference_set(self, village_code: str, version: int) -> bytes:
        """The signed reference set of a village (every registry entry of that village)."""
        with self._lock:
            rows = [(n, e) for n, e in self._registry.items() if e.village_code == village_code]
        now = int(self._clock())
        body = reference_set_body(
            village_code=village_code,
            version=version,
            issued_at=now,
            expires_at=int(now + self.ttl_s),
            entries=[ReferenceEntry(n, e.kk, e.initials, e.template) for n, e in rows],
        )
        return sign_message(body, self._key)

    def revocation(self, village_code: str, version: int, reason: str) -> bytes:
        """A signed order to purge the village's sets up to ``version``."""
        body = revocation_body(
            village_code=village_code, version=version, issued_at=int(self._clock()), reason=reason
        )
        return sign_message(body, self._key)

    def answer(self, device_id: str, record: dict[str, Any]) -> bytes:
        """The signed ``verify_reply`` for an opened ``verify_request`` record."""
        messages.check(Name.VERIFY_REQUEST, record)
        if record["device_id"] != device_id:
            raise ProtocolError("verify request names another device")
        result, band = "refused", None
        if record["liveness"]["band"] == "live":
            band = self.band(record["nik"], base64.b64decode(record["template"]))
            result = "matched" if band is not None else "no_reference"
        body = {
            "v": 1,
            "kind": Name.VERIFY_REPLY,
            "request_id": record["request_id"],
            "device_id": device_id,
            "result": result,
            "match": band,
            "issued_at": int(self._clock()),
        }
        return sign_message(body, self._key)

    def verify_pending(self, record: dict[str, Any]) -> str | None:
        """``verified`` when a pending registration's live template matches HIGH, else None."""
        verification = record.get("verification") or {}
        template_hex = record.get("face_template")
        if verification.get("outcome") != "pending" or not template_hex:
            return None
        try:
            band = self.band(str(record.get("nik", "")), bytes.fromhex(template_hex))
        except ValueError as err:
            log.warning("pending registration has an unusable template: %s", err)
            return None
        return "verified" if band == "HIGH" else None
