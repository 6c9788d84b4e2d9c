"""One face attempt from live frames: coach, keep the best frame, check liveness, match.

Passive liveness decides first; only an *uncertain* score asks for a step-up challenge (blink
or head turn, read off the face mesh). Time is generous and nothing locks anyone out: a failed
attempt just ends with an outcome that the flow records in its :class:`AttemptBudget`.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from kiosk.core.biometrics import (
    CHALLENGE_COACHING,
    AttemptOutcome,
    ChallengeKind,
    ChallengeState,
    ChallengeTracker,
    Coaching,
    LivenessBand,
    MatchBand,
)
from kiosk.errors import ImageError, ModelError
from kiosk.vision.camera.base import Frame
from kiosk.vision.pipeline import BestFrameKeeper, FacePipeline, FrameAnalysis, VerifyResult

log = logging.getLogger("kiosk.vision")

ACCEPTED_BANDS = frozenset({MatchBand.HIGH, MatchBand.MEDIUM})


class Phase(StrEnum):
    """Where an attempt stands."""

    COACHING = "coaching"
    CHALLENGE = "challenge"
    DONE = "done"


@dataclass(frozen=True)
class CaptureStatus:
    """What to show now (a coaching code for the UI), and the result once done."""

    phase: Phase
    coaching: Coaching
    outcome: AttemptOutcome | None = None
    result: VerifyResult | None = None
    quality: float = 0.0
    stepped_up: bool = False  # liveness settled by the step-up challenge
    error: str | None = None  # a model failed mid-attempt: the flow should offer the agent


class FaceCapture:
    """Drives one attempt over successive frames; feed it with :meth:`feed`."""

    def __init__(
        self,
        pipeline: FacePipeline,
        reference: np.ndarray | None,
        *,
        started_at: float,
        timeout_s: float = 45.0,
        good_frames: int = 3,
        challenge: ChallengeKind = ChallengeKind.BLINK,
        challenge_timeout_s: float = 20.0,
    ) -> None:
        self.pipeline = pipeline
        self.reference = reference
        self.started_at = started_at
        self.timeout_s = timeout_s
        self.good_frames = good_frames
        self.challenge_kind = challenge
        self.challenge_timeout_s = challenge_timeout_s
        self.keeper = BestFrameKeeper()
        self.phase = Phase.COACHING
        self._streak: deque[FrameAnalysis] = deque(maxlen=good_frames)
        self._tracker: ChallengeTracker | None = None
        self._passive: VerifyResult | None = None
        self.status = CaptureStatus(Phase.COACHING, Coaching.NO_FACE)

    @property
    def best(self) -> FrameAnalysis | None:
        """The best frame kept so far (kept and flagged by the flow if the budget runs out)."""
        return self.keeper.best

    def feed(self, frame: Frame) -> CaptureStatus:
        """Analyse one frame and advance the attempt."""
        if self.phase is Phase.DONE:
            return self.status
        try:
            analysis = self.pipeline.analyze(frame.image, frame.timestamp)
            if self.phase is Phase.COACHING:
                self.status = self._coach(analysis, frame.timestamp)
            else:
                self.status = self._challenge(analysis, frame.timestamp)
        except ImageError as err:  # an unusable frame: wait for the next one
            log.warning("frame %d skipped: %s", frame.seq, err)
        except ModelError as err:  # never leave the attempt half-done
            log.error("face check aborted: %s", err)
            self.phase = Phase.DONE
            self.status = CaptureStatus(
                Phase.DONE, Coaching.OK, AttemptOutcome.NO_CAPTURE, error=str(err)
            )
        return self.status

    def _coach(self, analysis: FrameAnalysis, now: float) -> CaptureStatus:
        self.keeper.offer(analysis)
        if analysis.ok:
            self._streak.append(analysis)
        else:
            self._streak.clear()
        timed_out = now - self.started_at > self.timeout_s
        if len(self._streak) < self.good_frames and not timed_out:
            return CaptureStatus(Phase.COACHING, analysis.coaching)
        best = self.keeper.best
        if best is None:
            return self._finish(AttemptOutcome.NO_CAPTURE, None, 0.0)
        # Liveness over the run of good frames too, not one frame's crop alone.
        result = self.pipeline.verify(best, self.reference, liveness_frames=tuple(self._streak))
        if result.liveness is LivenessBand.LIVE:
            return self._decide(result, best.score)
        if result.liveness is LivenessBand.SPOOF:
            return self._finish(AttemptOutcome.NOT_LIVE, result, best.score)
        self._passive = result
        self._tracker = ChallengeTracker(
            self.challenge_kind, started_at=now, timeout_s=self.challenge_timeout_s
        )
        self.phase = Phase.CHALLENGE
        return CaptureStatus(Phase.CHALLENGE, CHALLENGE_COACHING[self.challenge_kind])

    def _challenge(self, analysis: FrameAnalysis, now: float) -> CaptureStatus:
        assert self._tracker is not None and self._passive is not None
        m = analysis.metrics
        ear, yaw = (m.eye_ratio, m.yaw) if m is not None else (float("nan"), float("nan"))
        state = self._tracker.update(now, ear, yaw)
        quality = self.keeper.best.score if self.keeper.best else 0.0
        if state is ChallengeState.PASSED:
            log.info("step-up challenge %s passed", self.challenge_kind.value)
            return self._decide(self._passive, quality, stepped_up=True)
        if state is ChallengeState.TIMED_OUT:
            log.warning("spoof suspicion: step-up challenge %s not completed", self.challenge_kind)
            return self._finish(AttemptOutcome.NOT_LIVE, self._passive, quality)
        return CaptureStatus(Phase.CHALLENGE, CHALLENGE_COACHING[self.challenge_kind])

    def _decide(
        self, result: VerifyResult, quality: float, stepped_up: bool = False
    ) -> CaptureStatus:
        ok = result.match is None or result.match in ACCEPTED_BANDS
        outcome = AttemptOutcome.MATCHED if ok else AttemptOutcome.NOT_MATCHED
        return self._finish(outcome, result, quality, stepped_up)

    def _finish(
        self,
        outcome: AttemptOutcome,
        result: VerifyResult | None,
        quality: float,
        stepped_up: bool = False,
    ) -> CaptureStatus:
        self.phase = Phase.DONE
        self._streak.clear()  # raw frames are held no longer than the attempt needs them
        self.status = CaptureStatus(Phase.DONE, Coaching.OK, outcome, result, quality, stepped_up)
        return self.status
