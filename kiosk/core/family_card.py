"""A family card (No. KK) the portal may already hold: the digest a kiosk asks by, the answer.

The kiosk asks by :func:`kk_digest` of the No. KK (kiosk/uplink/family_query.py); the portal
computes the same digest of the No. KK in every registration it stores (portal/family_cards.py)
and answers whether it knows the card and, if so, only what an update of that registration
needs: its id, its newest version, when it was first registered and how many people it lists;
never a name, a NIK or a receipt code. Like the NIK digest of a status query it is
domain-separated SHA-256, not a kiosk-keyed hash (the portal, which holds every KK in clear,
must compute it too), so it travels only inside an envelope sealed to the portal's key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

KK_DIGEST_DOMAIN = "perlinsos kk v1|"


def kk_digest(kk: str) -> str:
    """The No. KK's family-card query digest, hex (the same on the kiosk and the portal)."""
    return hashlib.sha256((KK_DIGEST_DOMAIN + kk).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class PortalFamily:
    """A registration of the family card the portal holds (no personal data)."""

    registration_id: str
    version: int  # the newest version the portal holds
    registered_at: float  # portal wall clock when its first version arrived, seconds
    members_count: int | None = None  # people on its newest member list, when one was given


@dataclass(frozen=True)
class FamilyAnswer:
    """The portal's signed answer to a family card query: the registration of the card it
    holds, or None when no kiosk registered it."""

    registration: PortalFamily | None
