"""One face attempt from live frames: coach, light, keep the best frame, check liveness, match.

The attempt follows one tracked face (the subject, see :mod:`kiosk.vision.subject`). While
coaching it asks for the face light when the face is dark and for an exposure bias metered on
the face; a problem that persists changes strategy (light on, then "come closer"), and the
coaching phase is bounded. Passive liveness is the median over several good frames; unless it
is above a high bar on a good capture, an active challenge (randomised blink or head turn,
read off the face mesh) decides, never a rejection on a guess. Time is injected (frame
timestamps); the attempt ends with an outcome the flow counts against its retry budget.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from kiosk.config import BiometricsConfig
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
from kiosk.vision.exposure import FaceExposure
from kiosk.vision.pipeline import BestFrameKeeper, FacePipeline, FrameAnalysis, VerifyResult
from kiosk.vision.subject import Box, continues

log = logging.getLogger("kiosk.vision")

ACCEPTED_BANDS = frozenset({MatchBand.HIGH, MatchBand.MEDIUM})
DARK_CODES = frozenset({Coaching.TOO_DARK, Coaching.BACKLIGHT})
BRIGHT_CODES = frozenset({Coaching.TOO_BRIGHT, Coaching.GLARE})
NO_SUBJECT_CODES = frozenset({Coaching.NO_FACE, Coaching.MULTIPLE_FACES})


class Phase(StrEnum):
    """Where an attempt stands."""

    COACHING = "coaching"
    CHALLENGE = "challenge"
    DONE = "done"


@dataclass(frozen=True)
class CaptureSettings:
    """Budgets (seconds) and bars of one attempt; ``from_config`` reads ``[biometrics]``."""

    capture_s: float = 12.0  # coaching phase; then decide on the best usable frame or stop
    strategy_after_s: float = 3.0  # a persistent problem changes strategy after this long
    challenge_s: float = 10.0  # for each active challenge
    decision_s: float = 35.0  # hard bound from the start to a decision
    good_frames: int = 3  # consecutive quality-passing frames that end the coaching phase
    liveness_frames: int = 5  # good frames of the subject whose passive liveness is fused
    passive_only: float = 0.97  # fused passive score that needs no challenge (good capture)
    dark_luma: float = 70.0  # face luma (0..255) under which the face light goes on

    def __post_init__(self) -> None:
        for name in ("capture_s", "strategy_after_s", "challenge_s", "decision_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (seconds)")
        if self.good_frames < 1 or self.liveness_frames < 1:
            raise ValueError("good_frames and liveness_frames must be at least 1")
        if self.decision_s < self.capture_s:
            raise ValueError("decision_s must be at least capture_s")

    @classmethod
    def from_config(cls, bio: BiometricsConfig) -> CaptureSettings:
        """Settings from ``[biometrics]`` (time budgets, fusion window, the passive-only bar)."""
        return cls(
            capture_s=bio.capture_timeout_s,
            strategy_after_s=bio.strategy_after_s,
            challenge_s=bio.challenge_timeout_s,
            decision_s=bio.decision_timeout_s,
            liveness_frames=bio.liveness_frames,
            passive_only=bio.liveness_passive_only,
        )


@dataclass(frozen=True)
class CaptureStatus:
    """What to show now (a coaching code for the UI), what to switch, and the result once done.

    ``light`` is whether the face light should be on, ``exposure_ev`` a new exposure bias to
    apply (None: unchanged). ``liveness`` is the final verdict (live only when passive
    liveness or the challenges settled it); ``elapsed_s`` the time since the attempt started;
    ``spoof`` names a spoof suspicion (no image, no score) for the portal's counters. During
    a challenge ``result`` is the passive check awaiting it.
    """

    phase: Phase
    coaching: Coaching
    outcome: AttemptOutcome | None = None
    result: VerifyResult | None = None
    quality: float = 0.0
    stepped_up: bool = False  # liveness settled by the active challenge(s)
    error: str | None = None  # a model failed mid-attempt: the flow should offer the agent
    light: bool = False
    exposure_ev: float | None = None
    liveness: LivenessBand | None = None
    elapsed_s: float = 0.0
    challenges: tuple[ChallengeKind, ...] = ()
    spoof: str | None = None


class FaceCapture:
    """Drives one attempt over successive frames; feed it with :meth:`feed`."""

    def __init__(
        self,
        pipeline: FacePipeline,
        reference: np.ndarray | None,
        *,
        started_at: float,
        settings: CaptureSettings | None = None,
        rng: random.Random | None = None,
        exposure: FaceExposure | None = None,
        challenges: tuple[ChallengeKind, ...] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.reference = reference
        self.started_at = started_at
        self.settings = settings or CaptureSettings()
        self._rng = rng or random.SystemRandom()
        self._forced = challenges  # tests and demos may fix the challenge order
        self.exposure = exposure
        self.keeper = BestFrameKeeper()
        self.phase = Phase.COACHING
        s = self.settings
        self._streak = 0
        self._good: deque[FrameAnalysis] = deque(maxlen=s.liveness_frames)
        self._track: Box | None = None
        self._bad_since: float | None = None
        self._light = False
        self._light_blocked = False
        self._tracker: ChallengeTracker | None = None
        self._queue: list[ChallengeKind] = []
        self._asked: tuple[ChallengeKind, ...] = ()
        self._passive: VerifyResult | None = None
        self.status = CaptureStatus(Phase.COACHING, Coaching.NO_FACE)

    @property
    def best(self) -> FrameAnalysis | None:
        """The best frame kept so far (kept and flagged by the flow if the budget runs out)."""
        return self.keeper.best

    @property
    def deadline(self) -> float:
        """Monotonic time by which the attempt has decided, challenges included."""
        return self.started_at + self.settings.decision_s

    def run(
        self, frames: Iterable[Frame], each: Callable[[CaptureStatus], object] | None = None
    ) -> bool:
        """Feed ``frames`` (``each`` sees every status) until the attempt decides: True, or
        False when the frames run out first (the camera's deadline passed)."""
        for frame in frames:
            try:
                status = self.feed(frame)
            except ImageError as err:
                log.warning("camera frame unusable: %s", err)
                continue
            if each is not None:
                each(status)
            if self.phase is Phase.DONE:
                return True
        return False

    def feed(self, frame: Frame) -> CaptureStatus:
        """Analyse one frame and advance the attempt."""
        if self.phase is Phase.DONE:
            return self.status
        try:
            analysis = self.pipeline.analyze(frame.image, frame.timestamp, self._track)
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
                Phase.DONE,
                Coaching.OK,
                AttemptOutcome.NO_CAPTURE,
                error=str(err),
                light=self._light,
                elapsed_s=frame.timestamp - self.started_at,
            )
        return self.status

    # --- coaching phase --------------------------------------------------------------------
    def _follow(self, analysis: FrameAnalysis) -> None:
        """Track the subject; a different face restarts the run (its frames are not ours)."""
        det = analysis.detection
        if det is None:
            return
        if self._track is not None and not continues(det, self._track, self.pipeline.subject_rule):
            self._streak = 0
            self._good.clear()
            self.keeper.clear()
        self._track = det.box

    def _coach(self, analysis: FrameAnalysis, now: float) -> CaptureStatus:
        s = self.settings
        self._follow(analysis)
        self.keeper.offer(analysis)
        ev = self._meter(analysis, now)
        if analysis.ok:
            self._streak += 1
            self._good.append(analysis)
            self._bad_since = None
        else:
            self._streak = 0
            self._bad_since = now if self._bad_since is None else self._bad_since
        coaching = self._strategy(analysis, now)
        if self._streak >= s.good_frames and len(self._good) == self._good.maxlen:
            best = self.keeper.best
            assert best is not None
            return self._passive_check(best, tuple(self._good), now, poor=False, ev=ev)
        if now - self.started_at <= s.capture_s:
            return CaptureStatus(
                Phase.COACHING,
                coaching,
                light=self._light,
                exposure_ev=ev,
                elapsed_s=now - self.started_at,
            )
        # The coaching phase is over: decide on the best usable frame (with a challenge), but
        # never guess between two people or match nobody.
        best = self.keeper.best
        if best is None or best.coaching in NO_SUBJECT_CODES:
            log.info(
                "face capture: no usable frame after %.1f s (%s)",
                now - self.started_at,
                coaching.value,
            )
            return self._finish(AttemptOutcome.NO_CAPTURE, None, 0.0, now, coaching=coaching)
        frames = tuple(self._good) or (best,)
        return self._passive_check(best, frames, now, poor=not best.ok, ev=ev)

    def _meter(self, analysis: FrameAnalysis, now: float) -> float | None:
        """Face light and exposure from the face region (the frame when nobody is seen)."""
        luma = analysis.face_luma
        dark = luma < self.settings.dark_luma or analysis.coaching in DARK_CODES
        if dark and not self._light and not self._light_blocked:
            log.info("face region dark (luma %.0f): face light on", luma)
            self._light = True
        if self.exposure is None:
            return None
        return self.exposure.update(luma, now)

    def _strategy(self, analysis: FrameAnalysis, now: float) -> Coaching:
        """The coaching to give: a problem that persists changes what the person is told."""
        code = analysis.coaching
        if self._bad_since is None or now - self._bad_since < self.settings.strategy_after_s:
            return code
        if code in DARK_CODES and self._light:
            return Coaching.TOO_FAR  # the light is at the camera: coming closer is brighter
        if code in BRIGHT_CODES and self._light:
            log.info("face over-exposed with the face light on: light off")
            self._light = False
            self._light_blocked = True
            self._bad_since = now
        return code

    def _passive_check(
        self,
        best: FrameAnalysis,
        frames: tuple[FrameAnalysis, ...],
        now: float,
        *,
        poor: bool,
        ev: float | None,
    ) -> CaptureStatus:
        s = self.settings
        result = self.pipeline.verify(best, self.reference, liveness_frames=frames)
        clear = result.liveness is LivenessBand.LIVE and result.liveness_score >= s.passive_only
        if clear and not poor:
            return self._decide(result, best.score, now, LivenessBand.LIVE)
        # Not clearly live, or a poor capture: an active challenge instead of a rejection.
        count = 2 if result.liveness is LivenessBand.SPOOF else 1
        if self._forced is not None:
            kinds = list(self._forced[:count])
        else:
            kinds = self._rng.sample(list(ChallengeKind), count)
        log.info(
            "passive liveness %s%s: %d challenge(s)",
            result.liveness.value,
            " on a poor capture" if poor else "",
            len(kinds),
        )
        self._passive = result
        self._queue = kinds
        self._asked = tuple(kinds)
        self.phase = Phase.CHALLENGE
        return self._next_challenge(now, ev)

    # --- challenge phase -------------------------------------------------------------------
    def _next_challenge(self, now: float, ev: float | None = None) -> CaptureStatus:
        kind = self._queue.pop(0)
        left = self.deadline - now
        self._tracker = ChallengeTracker(
            kind, started_at=now, timeout_s=max(0.0, min(self.settings.challenge_s, left))
        )
        return CaptureStatus(
            Phase.CHALLENGE,
            CHALLENGE_COACHING[kind],
            result=self._passive,
            light=self._light,
            exposure_ev=ev,
            elapsed_s=now - self.started_at,
            challenges=self._asked,
        )

    def _challenge(self, analysis: FrameAnalysis, now: float) -> CaptureStatus:
        assert self._tracker is not None and self._passive is not None
        tracker = self._tracker
        ev = self._meter(analysis, now)
        m = analysis.metrics
        same = (
            analysis.detection is not None
            and analysis.faces <= 1
            and continues(analysis.detection, self._track, self.pipeline.subject_rule)
        )
        if same and m is not None:
            self._track = analysis.box
            state = tracker.update(now, m.eye_ratio, m.yaw)
        else:  # nobody, somebody else or two people: the clock runs, nothing counts
            state = tracker.update(now, float("nan"), float("nan"))
        quality = self.keeper.best.score if self.keeper.best else 0.0
        if state is ChallengeState.PASSED:
            log.info("active challenge %s passed", tracker.kind.value)
            if self._queue:
                return self._next_challenge(now, ev)
            return self._decide(self._passive, quality, now, LivenessBand.LIVE, stepped_up=True)
        if state is ChallengeState.TIMED_OUT:
            log.warning("spoof suspicion: active challenge %s not completed", tracker.kind.value)
            band = self._passive.liveness
            band = LivenessBand.UNCERTAIN if band is LivenessBand.LIVE else band
            return self._finish(
                AttemptOutcome.NOT_LIVE,
                self._passive,
                quality,
                now,
                liveness=band,
                spoof=f"{self._passive.liveness.value}:{tracker.kind.value}",
            )
        coaching = CHALLENGE_COACHING[tracker.kind]
        if analysis.faces > 1:
            coaching = Coaching.MULTIPLE_FACES
        return CaptureStatus(
            Phase.CHALLENGE,
            coaching,
            result=self._passive,
            light=self._light,
            exposure_ev=ev,
            elapsed_s=now - self.started_at,
            challenges=self._asked,
        )

    # --- the end ---------------------------------------------------------------------------
    def _decide(
        self,
        result: VerifyResult,
        quality: float,
        now: float,
        liveness: LivenessBand,
        stepped_up: bool = False,
    ) -> CaptureStatus:
        ok = result.match is None or result.match in ACCEPTED_BANDS
        outcome = AttemptOutcome.MATCHED if ok else AttemptOutcome.NOT_MATCHED
        return self._finish(outcome, result, quality, now, stepped_up, liveness=liveness)

    def _finish(
        self,
        outcome: AttemptOutcome,
        result: VerifyResult | None,
        quality: float,
        now: float,
        stepped_up: bool = False,
        *,
        liveness: LivenessBand | None = None,
        coaching: Coaching = Coaching.OK,
        spoof: str | None = None,
    ) -> CaptureStatus:
        self.phase = Phase.DONE
        self._good.clear()  # raw frames are held no longer than the attempt needs them
        self.status = CaptureStatus(
            Phase.DONE,
            coaching,
            outcome,
            result,
            quality,
            stepped_up,
            light=self._light,
            liveness=liveness,
            elapsed_s=now - self.started_at,
            challenges=self._asked,
            spoof=spoof,
        )
        return self.status
