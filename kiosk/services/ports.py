"""The small interfaces services need from the outside world; adapters implement them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.core.session import Outcome


@dataclass(frozen=True)
class FaceCheckResult:
    """One capture-and-verify attempt, as the flow needs it (no raw scores)."""

    outcome: Outcome
    template: bytes | None  # float32 embedding bytes of the best capture, if any
    reference_source: str | None  # e.g. village_set, online, none
    match_band: str | None  # HIGH / MEDIUM / LOW / NONE, or None without a reference
    liveness_band: str | None  # live / uncertain / spoof
    coaching: str | None  # coaching code when no usable face was captured
    capture: Any = None  # best frame kept in memory for the agent path; never persisted
    decision_s: float | None = None  # seconds from the start of the attempt to the decision

    @property
    def needs_coaching(self) -> bool:
        """The one "no usable face" rule: nothing was captured, so coach and try again (the
        attempt does not count)."""
        return self.template is None and self.coaching is not None


class FaceVerifier(Protocol):
    """Capture the person in front of the camera and decide against their claimed NIK."""

    def check(self, nik: str) -> FaceCheckResult:
        """Run one attempt: capture, quality, liveness, match, policy."""
        ...


class IdCardReader(Protocol):
    """Reads the e-KTP held to the camera when the village set has no reference for a NIK."""

    def id_card_needed(self, nik: str) -> bool:
        """True when ``nik`` has no village reference and no card was read for it yet."""
        ...

    def read_id_card(self, nik: str) -> str | None:
        """Read the card: None when its face is now ``nik``'s reference, else a coaching code."""
        ...

    def forget_id_card(self) -> None:
        """Drop the card reference (memory only) when the session ends."""
        ...


class Sealer(Protocol):
    """Seal a record for the portal (the kiosk cannot open it again)."""

    def seal(self, kind: str, record_id: str, record: dict[str, Any]) -> bytes:
        """Return the envelope bytes for ``record``."""
        ...


class NikParser(Protocol):
    """Validate and parse a NIK typed by a person."""

    def __call__(self, text: str) -> Any:
        """Return parsed info or raise :class:`kiosk.errors.NikError`."""
        ...
