"""Pure biometric decisions: bands from scores, the retry budget, step-up challenge, coaching text.

Nothing here touches a model, an image or the clock; callers pass numbers and timestamps in.
The UI only ever shows the *bands* computed here, never a raw similarity or liveness score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class MatchBand(StrEnum):
    """How strongly a live face matches the reference template."""

    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    NONE = "NONE"


class LivenessBand(StrEnum):
    """Passive liveness verdict; UNCERTAIN asks for a step-up challenge, never a rejection."""

    LIVE = "live"
    UNCERTAIN = "uncertain"
    SPOOF = "spoof"


def _finite(value: float, what: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def match_band(similarity: float, high: float, medium: float, low: float) -> MatchBand:
    """Band for a cosine ``similarity`` (-1..1) given thresholds ``high >= medium >= low``."""
    s = _finite(similarity, "similarity")
    if not high >= medium >= low:
        raise ValueError("thresholds must satisfy high >= medium >= low")
    for band, threshold in (
        (MatchBand.HIGH, high),
        (MatchBand.MEDIUM, medium),
        (MatchBand.LOW, low),
    ):
        if s >= threshold:
            return band
    return MatchBand.NONE


def liveness_band(score: float, live: float, spoof: float) -> LivenessBand:
    """Band for a passive liveness probability ``score`` (0..1): >= live, < spoof, or between."""
    p = _finite(score, "liveness score")
    if spoof > live:
        raise ValueError("liveness spoof threshold must not exceed the live threshold")
    if p >= live:
        return LivenessBand.LIVE
    if p < spoof:
        return LivenessBand.SPOOF
    return LivenessBand.UNCERTAIN


# --- attempt outcome -------------------------------------------------------------------------


class AttemptOutcome(StrEnum):
    """What one face attempt ended with."""

    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    NOT_LIVE = "not_live"
    NO_CAPTURE = "no_capture"


# --- step-up challenge -----------------------------------------------------------------------


class ChallengeKind(StrEnum):
    """Active liveness challenges the face mesh can check."""

    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


class ChallengeState(StrEnum):
    """Where a step-up challenge stands."""

    WAITING = "waiting"
    PASSED = "passed"
    TIMED_OUT = "timed_out"


@dataclass
class ChallengeTracker:
    """Follows eye openness and head yaw over frames until the asked gesture is seen.

    ``eye_ratio`` is the mean eye aspect ratio (about 0.3 open, under 0.2 closed); ``yaw_deg``
    is positive when the person turns to their left. A timeout only ends the challenge; it
    never locks anyone out (the flow offers another attempt or the agent path).
    """

    kind: ChallengeKind
    started_at: float
    timeout_s: float = 20.0
    closed_below: float = 0.19
    open_above: float = 0.24
    turn_deg: float = 18.0
    state: ChallengeState = ChallengeState.WAITING
    _seen_open: bool = False
    _seen_closed: bool = False

    def update(self, timestamp: float, eye_ratio: float, yaw_deg: float) -> ChallengeState:
        """Feed one frame's measurements (timestamp in monotonic seconds); return the state."""
        if self.state is not ChallengeState.WAITING:
            return self.state
        if timestamp - self.started_at > self.timeout_s:
            self.state = ChallengeState.TIMED_OUT
            return self.state
        if not (math.isfinite(eye_ratio) and math.isfinite(yaw_deg)):
            return self.state
        if self.kind is ChallengeKind.BLINK:
            if eye_ratio >= self.open_above:
                if self._seen_closed and self._seen_open:
                    self.state = ChallengeState.PASSED
                self._seen_open = True
            elif eye_ratio < self.closed_below and self._seen_open:
                self._seen_closed = True
        else:
            sign = 1.0 if self.kind is ChallengeKind.TURN_LEFT else -1.0
            if sign * yaw_deg >= self.turn_deg:
                self.state = ChallengeState.PASSED
        return self.state


# --- coaching --------------------------------------------------------------------------------


class Coaching(StrEnum):
    """Why a frame is not good enough yet; each maps to one short spoken instruction."""

    OK = "ok"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_FAR = "too_far"
    TOO_CLOSE = "too_close"
    OFF_CENTER = "off_center"
    LOOK_STRAIGHT = "look_straight"
    HEAD_LEVEL = "head_level"
    SUNGLASSES = "sunglasses"
    MASK = "mask"
    EYES_CLOSED = "eyes_closed"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BACKLIGHT = "backlight"
    GLARE = "glare"
    BLURRY = "blurry"
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


# Each code's instruction is a msgid of the UI (ui/texts.py COACHING), translated there. Head
# coverings are never mentioned: the kiosk never asks anyone to remove a hijab.
CHALLENGE_COACHING: dict[ChallengeKind, Coaching] = {
    ChallengeKind.BLINK: Coaching.BLINK,
    ChallengeKind.TURN_LEFT: Coaching.TURN_LEFT,
    ChallengeKind.TURN_RIGHT: Coaching.TURN_RIGHT,
}
