"""The production :class:`~kiosk.services.ports.FaceVerifier`: camera -> pipeline -> policy.

One :meth:`CameraFaceVerifier.check` grabs frames until the pipeline sees enough
quality-passing frames (or the time budget ends, which returns a coaching code instead of a
decision), checks liveness (passive, then a step-up challenge when unsure), embeds the best
frame, finds a reference (village set, then the portal online, else none), and lets the
decision policy turn (source, match band, liveness band) into an outcome. Only bands leave
this module: never a raw score, never a frame on disk, never a NIK in the log.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from kiosk.config import BiometricsConfig
from kiosk.core.biometrics import AttemptOutcome, Coaching
from kiosk.core.clock import Clock, SystemClock
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Outcome
from kiosk.errors import FlowError, ImageError, KioskError
from kiosk.references.idcard import SOURCE as SOURCE_ID_CARD
from kiosk.references.idcard import CardReferences, IdCardMatcher
from kiosk.references.online import OnlineAnswer
from kiosk.references.store import Reference
from kiosk.services.ports import FaceCheckResult
from kiosk.vision.camera.base import Camera, new_frames
from kiosk.vision.capture import CaptureSettings, CaptureStatus, FaceCapture, Phase
from kiosk.vision.exposure import FaceExposure
from kiosk.vision.pipeline import FacePipeline, template_from_bytes, template_to_bytes

log = logging.getLogger(__name__)


class ReferenceLookup(Protocol):
    """Where local references come from (:class:`kiosk.references.store.ReferenceStore`)."""

    def lookup(self, nik: str) -> Reference | None:
        """The reference for ``nik``, or None."""
        ...


class OnlineLookup(Protocol):
    """The portal, online (:class:`kiosk.references.online.OnlineVerifier`)."""

    @property
    def available(self) -> bool:
        """True when a request could be sent now."""
        ...

    def verify(self, nik: str, template: bytes, liveness: str, method: str) -> OnlineAnswer | None:
        """The portal's answer, or None (offline / timed out / refused)."""
        ...


@dataclass(frozen=True)
class FaceTimeouts:
    """The attempt's budgets (:class:`CaptureSettings`) and the camera-polling cadence."""

    capture: CaptureSettings = field(default_factory=CaptureSettings)
    poll_s: float = 0.02  # wait between two looks at the camera when no new frame came
    coach_every_s: float = 0.25  # live coaching analyses at most this often

    def __post_init__(self) -> None:
        for name in ("poll_s", "coach_every_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (seconds)")

    @classmethod
    def from_config(cls, bio: BiometricsConfig) -> FaceTimeouts:
        """Budgets from ``[biometrics]`` (capture, strategy, challenge and decision bounds)."""
        return cls(capture=CaptureSettings.from_config(bio))


class CameraFaceVerifier:
    """Captures the person in front of the camera and decides against their claimed NIK.

    Also a :class:`ui.ports.LiveView` (``coaching`` and ``preview_jpeg``) for the capture
    screen. ``on_claim(nik)`` is called before each capture (the demo points the replay
    camera at the person who claims that NIK); ``sleep`` waits between camera polls (tests
    pass a fake clock's ``advance``); ``id_card`` with ``cards`` (which should also be
    ``references``) enables the e-KTP step (:meth:`read_id_card`).
    """

    def __init__(
        self,
        camera: Camera,
        pipeline: FacePipeline,
        references: ReferenceLookup,
        policy: DecisionPolicy,
        online: OnlineLookup | None = None,
        *,
        clock: Clock | None = None,
        timeouts: FaceTimeouts | None = None,
        on_claim: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        id_card: IdCardMatcher | None = None,
        cards: CardReferences | None = None,
        light: Callable[[bool], None] | None = None,
        on_spoof: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._camera = camera
        self._pipeline = pipeline
        self._references = references
        self._policy = policy
        self._online = online
        self._clock: Clock = clock or SystemClock()
        self._t = timeouts or FaceTimeouts()
        self._on_claim = on_claim
        self._sleep = sleep
        self._id_card = id_card
        self._cards = cards
        self._lock = threading.Lock()
        self._live: str | None = None
        self._coached_seq: int | None = None
        self._coached_at = float("-inf")
        self._light = light
        self._light_on = False
        self._on_spoof = on_spoof
        self._rng = rng or random.SystemRandom()
        self._exposure = FaceExposure()

    # --- one attempt ---------------------------------------------------------------------
    def check(self, nik: str) -> FaceCheckResult:
        """Run one attempt: capture, quality, liveness, match, policy (blocks up to the budget)."""
        if self._on_claim is not None:
            self._on_claim(nik)
        since = self._clock.monotonic()  # frames older than the claim may show someone else
        reference = self._references.lookup(nik)
        ref_template = _reference_array(reference)
        with self._lock:
            try:
                return self._capture_and_decide(
                    nik, reference if ref_template is not None else None, ref_template, since
                )
            finally:
                self._switch_light(False)  # never left on after an attempt

    def _capture_and_decide(
        self,
        nik: str,
        reference: Reference | None,
        ref_template: np.ndarray | None,
        since: float,
    ) -> FaceCheckResult:
        t = self._t
        start = self._clock.monotonic()
        capture = FaceCapture(
            self._pipeline,
            ref_template,
            started_at=start,
            settings=t.capture,
            rng=self._rng,
            exposure=self._exposure,
        )
        until = capture.deadline + 1.0
        frames = new_frames(
            self._camera, self._clock, until=until, since=since, poll_s=t.poll_s, sleep=self._sleep
        )
        if not capture.run(frames, self._follow):
            log.warning("face capture ended without a decision (camera %s)", _state(self))
            return _coaching(self._live or Coaching.NO_FACE.value)
        status = capture.status
        decision_s = self._clock.monotonic() - start
        if status.spoof is not None:
            self._record_spoof(status.spoof)
        best = capture.best
        result = status.result
        if status.outcome is AttemptOutcome.NO_CAPTURE or result is None or best is None:
            return _coaching(
                status.coaching.value
                if status.coaching is not Coaching.OK
                else self._live or Coaching.NO_FACE.value
            )
        band_live = status.liveness or result.liveness
        liveness = band_live.value
        template = template_to_bytes(result.embedding)
        source, band = "none", None
        if reference is not None and reference.source == SOURCE_ID_CARD and self._id_card:
            assert ref_template is not None  # the card has its own, looser bands
            source, band = SOURCE_ID_CARD, self._id_card.band(result.embedding, ref_template)
        elif reference is not None:
            source, band = reference.source, result.match.value if result.match else "NONE"
        elif liveness == "live" and self._online is not None and self._online.available:
            method = "passive+challenge" if status.stepped_up else "passive"
            answer = self._ask_online(nik, template, method)
            if answer is not None and answer.match is not None:
                source, band = "online", answer.match
        outcome, why = self._policy.decide(source, band, liveness)
        log.info(
            "face check: source=%s match=%s liveness=%s challenges=%d -> %s (%s) in %.1f s",
            source,
            band or "-",
            liveness,
            len(status.challenges),
            outcome.value,
            why,
            decision_s,
        )
        return FaceCheckResult(
            outcome, template, source, band, liveness, None, capture=best, decision_s=decision_s
        )

    def _follow(self, status: CaptureStatus) -> None:
        """Light, exposure and the live coaching code follow each frame's status."""
        self._switch_light(status.light)
        if status.exposure_ev is not None:
            self._camera.set_exposure(status.exposure_ev)
        self._live = status.coaching.value if status.phase is not Phase.DONE else None

    def _switch_light(self, on: bool) -> None:
        if on == self._light_on:
            return
        self._light_on = on
        if self._light is not None:
            try:
                self._light(on)
            except (KioskError, OSError) as err:  # a dead relay must not end the attempt
                log.warning("face light not switched: %s", err)
        self._camera.light_changed(on)

    def _record_spoof(self, kind: str) -> None:
        log.warning("spoof suspicion recorded: %s", kind)
        if self._on_spoof is not None:
            try:
                self._on_spoof(kind)
            except (KioskError, OSError, ValueError) as err:
                log.error("spoof suspicion not recorded: %s", err)

    # --- the e-KTP, when the village set has no reference -------------------------------
    def id_card_needed(self, nik: str) -> bool:
        """True when this kiosk reads e-KTPs and the village set has no reference for ``nik``
        (a card already shown for it counts: it need not be shown twice)."""
        cards = self._cards
        return (
            self._id_card is not None
            and cards is not None
            and not (cards.in_village_set(nik) or cards.holds(nik))
        )

    def read_id_card(self, nik: str) -> str | None:
        """Find the e-KTP held to the camera; its face becomes ``nik``'s reference.

        Returns None once the card's face is held (in memory, for this NIK only), else the
        coaching code of the capture budget's last frame (``no_card_face``, ``card_too_small``).
        """
        if self._id_card is None or self._cards is None:
            raise FlowError("ID-card reading is not configured on this kiosk")
        t = self._t
        until = self._clock.monotonic() + t.capture.capture_s
        coaching = "no_card_face"
        with self._lock:
            frames = new_frames(
                self._camera, self._clock, until=until, poll_s=t.poll_s, sleep=self._sleep
            )
            for frame in frames:
                try:
                    found = self._id_card.card_template(frame.image)
                except ImageError as err:
                    log.warning("ID-card frame unusable: %s", err)
                    continue
                if isinstance(found, bytes):
                    self._cards.hold(nik, found)
                    log.info("ID-card photo read: it is the reference of this attempt")
                    return None
                coaching = found.coaching or coaching
                self._live = coaching
        return coaching

    def forget_id_card(self) -> None:
        """Drop the card reference (the session ended)."""
        if self._cards is not None:
            self._cards.forget()

    def _ask_online(self, nik: str, template: bytes, method: str) -> OnlineAnswer | None:
        assert self._online is not None
        try:
            return self._online.verify(nik, template, "live", method)
        except KioskError as err:
            log.warning("online verification failed: %s", err)
            return None

    # --- live view for the capture screen ------------------------------------------------
    def coaching(self) -> str | None:
        """Current coaching code (never blocks on a running attempt); None without frames."""
        if not self._lock.acquire(blocking=False):
            return self._live
        try:
            frame = self._camera.latest()
            if frame is None:
                return None
            now = self._clock.monotonic()
            if frame.seq == self._coached_seq or now - self._coached_at < self._t.coach_every_s:
                return self._live
            self._coached_seq, self._coached_at = frame.seq, now
            try:
                live = self._pipeline.analyze(frame.image, frame.timestamp)
            except ImageError:
                self._live = Coaching.NO_FACE.value
                return self._live
            self._live = live.coaching.value
            ev = self._exposure.update(live.face_luma, now)  # settled before "Ambil foto"
            if ev is not None:
                self._camera.set_exposure(ev)
            return self._live
        finally:
            self._lock.release()

    def preview_jpeg(self) -> bytes | None:
        """The newest frame as JPEG bytes (memory only), or None before the first frame."""
        frame = self._camera.latest()
        if frame is None:
            return None
        import cv2

        ok, buf = cv2.imencode(
            ".jpg", cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70]
        )
        return bytes(buf) if ok else None


def _coaching(code: str) -> FaceCheckResult:
    """No usable capture: no decision, just what the person should change."""
    return FaceCheckResult(Outcome.RETRY, None, None, None, None, code)


def _reference_array(reference: Reference | None) -> np.ndarray | None:
    if reference is None:
        return None
    try:
        return template_from_bytes(reference.template)
    except ValueError:
        log.error("a stored reference template is unreadable; treated as no reference")
        return None


def _state(verifier: Any) -> str:
    return str(getattr(verifier._camera, "state", "unknown"))
