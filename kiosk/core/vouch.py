"""Vouching rules: why an agent may vouch, and which face bands count as the agent's signature."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.i18n import N_


@dataclass(frozen=True)
class VouchReason:
    """A reason an agent may give when a resident's face check failed."""

    code: str
    label: str
    """The label's msgid (English; translated at the edge)."""


REASONS: dict[str, VouchReason] = {
    r.code: r
    for r in (
        VouchReason("elderly", N_("Elderly (face changed with age)")),
        VouchReason("eye_disease", N_("Eye disease / blindness")),
        VouchReason("injury", N_("Injury or scar on the face")),
        VouchReason("cannot_stand", N_("Cannot stand or sit up")),
        VouchReason("old_id_photo", N_("ID photo is old")),
        VouchReason("illness", N_("Seriously ill / bedridden")),
        VouchReason("disability", N_("Other disability")),
        VouchReason("other", N_("Other reason (for the portal)")),
    )
}
"""Reason code -> reason. The portal reviews every vouched record."""

COSIGN_BANDS: frozenset[str] = frozenset({"HIGH", "MEDIUM"})
"""Match bands of the agent's own live face that count as a co-signature (and a login)."""

MAX_PHOTO_BYTES = 2 * 1024 * 1024
"""Largest accepted photo of the agent with the resident, bytes (JPEG)."""


def reason(code: str) -> VouchReason:
    """The reason for ``code``; raises ValueError for an unknown code."""
    found = REASONS.get(code)
    if found is None:
        raise ValueError(f"unknown vouch reason {code!r}; choose one of {', '.join(REASONS)}")
    return found


def cosigned(band: str | None) -> bool:
    """True when the agent's live face band is good enough to sign with."""
    return band is not None and band in COSIGN_BANDS


def check_photo(photo: bytes) -> None:
    """Refuse a missing, oversized or non-JPEG photo of the agent with the resident."""
    if not photo:
        raise ValueError("a photo of the agent with the resident is required")
    if len(photo) > MAX_PHOTO_BYTES:
        raise ValueError(f"the photo is larger than {MAX_PHOTO_BYTES // 1024} KiB")
    if not photo.startswith(b"\xff\xd8"):
        raise ValueError("the photo must be a JPEG image")
