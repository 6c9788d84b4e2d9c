"""What the portal answers about a person's registrations and objections (plain data).

The kiosk asks by a digest of the NIK and the receipt code (kiosk/uplink/status_query.py); the
portal computes the same digest of the NIKs it holds (portal/status_desk.py). The digest is
domain-separated SHA-256, so the portal, which holds every NIK in clear, can index it; it travels
only inside an envelope sealed to the portal's key, so the broker and anyone on the path see
neither the NIK nor the digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

NIK_DIGEST_DOMAIN = "perlinsos status v1|"

OBJECTION_STATES = ("received", "under_review", "upheld", "rejected")
"""An objection's states at the portal; ``upheld`` and ``rejected`` are final."""
FINAL_OBJECTION_STATES = frozenset({"upheld", "rejected"})


def nik_digest(nik: str) -> str:
    """The NIK's status-query digest, hex (the same on the kiosk and the portal)."""
    return hashlib.sha256((NIK_DIGEST_DOMAIN + nik).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class PortalRegistration:
    """One registration version as the portal holds it."""

    registration_id: str
    record_id: str
    version: int
    receipt_no: str
    verification: str | None
    status: str  # received | verified | eligible | not_eligible
    reason: str | None
    received_at: float
    decided_at: float | None


@dataclass(frozen=True)
class PortalObjection:
    """One objection (sanggah) as the portal holds it."""

    objection_id: str
    registration_id: str
    reason_code: str
    state: str  # one of OBJECTION_STATES
    reason: str | None
    filed_at: float
    state_at: float | None


@dataclass(frozen=True)
class PortalStatus:
    """The portal's signed answer to one status query."""

    result: str  # found | not_found
    at: float  # portal wall clock when it answered
    registrations: tuple[PortalRegistration, ...] = ()
    objections: tuple[PortalObjection, ...] = ()
