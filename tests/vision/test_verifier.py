"""The production face verifier on real photos: verified, mismatch, pending, online, spoof."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from face_doubles import FakeCamera

from kiosk.core.clock import FakeClock
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Outcome
from kiosk.errors import UplinkError
from kiosk.references.online import OnlineAnswer
from kiosk.references.store import Reference
from kiosk.vision.capture import CaptureSettings
from kiosk.vision.pipeline import FacePipeline, template_to_bytes
from kiosk.vision.verifier import CameraFaceVerifier, FaceTimeouts
from tests.fixtures.vision import uncertain_about


class DictReferences:
    """References from a dict NIK -> template bytes."""

    def __init__(self) -> None:
        self.refs: dict[str, bytes] = {}
        self.asked: list[str] = []

    def lookup(self, nik: str) -> Reference | None:
        """The reference, if any."""
        self.asked.append(nik)
        t = self.refs.get(nik)
        return Reference(t, "3510012001000001", "A.B", "3510012001", 1) if t else None


class FakeOnline:
    """The portal online: a fixed answer, or unavailable."""

    def __init__(self, available: bool = True, answer: OnlineAnswer | None = None) -> None:
        self.available = available
        self.answer = answer
        self.calls: list[tuple[str, int, str, str]] = []
        self.error: Exception | None = None

    def verify(self, nik: str, template: bytes, liveness: str, method: str) -> OnlineAnswer | None:
        """Record the request and answer."""
        self.calls.append((nik, len(template), liveness, method))
        if self.error is not None:
            raise self.error
        return self.answer


NIK = "3510011203850001"
# A still photo can neither blink nor turn: these tests are about references and the policy,
# so a passive "live" (>= liveness_live) is enough here; the high bar has its own tests.
STILL = CaptureSettings(capture_s=5.0, challenge_s=3.0, decision_s=12.0, passive_only=0.8)


@pytest.fixture
def refs() -> DictReferences:
    return DictReferences()


@pytest.fixture
def enrol(
    refs: DictReferences, face_pipeline: FacePipeline, photo: Callable[[str], np.ndarray]
) -> Callable[[str], None]:
    def do(name: str) -> None:
        refs.refs[NIK] = template_to_bytes(face_pipeline.embed_image(photo(name)))

    return do


@dataclass
class Rig:
    """The verifier's surroundings: camera, real pipeline, references, clock, photos."""

    camera: FakeCamera
    face_pipeline: FacePipeline
    refs: DictReferences
    clock: FakeClock
    enrol: Callable[[str], None]
    photo: Callable[[str], np.ndarray]

    def verifier(self, online: FakeOnline | None = None, **kw: object) -> CameraFaceVerifier:
        """The production verifier over this rig."""
        return _verifier(self.camera, self.face_pipeline, self.refs, self.clock, online, **kw)


@pytest.fixture
def rig(
    camera: FakeCamera,
    face_pipeline: FacePipeline,
    refs: DictReferences,
    clock: FakeClock,
    enrol: Callable[[str], None],
    photo: Callable[[str], np.ndarray],
) -> Rig:
    return Rig(camera, face_pipeline, refs, clock, enrol, photo)


def _verifier(
    camera: FakeCamera,
    pipeline: FacePipeline,
    refs: DictReferences,
    clock: FakeClock,
    online: FakeOnline | None = None,
    **kw: object,
) -> CameraFaceVerifier:
    return CameraFaceVerifier(
        camera,
        pipeline,
        refs,
        DecisionPolicy(),
        online,
        clock=clock,
        timeouts=FaceTimeouts(STILL),
        sleep=clock.advance,
        **kw,  # type: ignore[arg-type]
    )


def test_same_person_against_the_village_set_is_verified(rig: Rig) -> None:
    rig.enrol("p05/img16.jpg")
    rig.camera.show(rig.photo("p05/img59.jpg"))
    online = FakeOnline()
    result = rig.verifier(online).check(NIK)
    assert result.outcome is Outcome.VERIFIED
    assert (result.reference_source, result.match_band, result.liveness_band) == (
        "village_set",
        "HIGH",
        "live",
    )
    assert result.template is not None and len(result.template) == 516
    assert result.coaching is None and result.capture is not None
    assert online.calls == []  # a local reference needs no round trip


def test_other_person_is_a_mismatch(rig: Rig) -> None:
    rig.enrol("p05/img16.jpg")
    rig.camera.show(rig.photo("p09/img24.jpg"))
    result = rig.verifier().check(NIK)
    assert result.outcome is Outcome.RETRY
    assert result.reference_source == "village_set"
    assert result.match_band in ("LOW", "NONE")
    assert result.template is not None  # a capture was made: the flow counts the attempt


def test_no_reference_offline_is_pending(rig: Rig) -> None:
    rig.camera.show(rig.photo("p07/img20.jpg"))
    online = FakeOnline(available=False)
    result = rig.verifier(online).check(NIK)
    assert result.outcome is Outcome.PENDING
    assert (result.reference_source, result.match_band, result.liveness_band) == (
        "none",
        None,
        "live",
    )
    assert result.template is not None
    assert online.calls == []


@pytest.mark.parametrize(
    ("answer", "outcome", "source", "band"),
    [
        (OnlineAnswer("HIGH", "r1"), Outcome.VERIFIED, "online", "HIGH"),
        (OnlineAnswer("MEDIUM", "r1"), Outcome.PENDING, "online", "MEDIUM"),
        (OnlineAnswer("NONE", "r1"), Outcome.RETRY, "online", "NONE"),
        (OnlineAnswer(None, "r1"), Outcome.PENDING, "none", None),  # portal has none either
        (None, Outcome.PENDING, "none", None),  # no answer in time
    ],
)
def test_online_answers(
    rig: Rig, answer: OnlineAnswer | None, outcome: Outcome, source: str, band: str | None
) -> None:
    rig.camera.show(rig.photo("p07/img20.jpg"))
    online = FakeOnline(answer=answer)
    result = rig.verifier(online).check(NIK)
    assert (result.outcome, result.reference_source, result.match_band) == (outcome, source, band)
    assert online.calls == [(NIK, 516, "live", "passive")]


def test_online_failure_falls_back_to_pending(rig: Rig) -> None:
    rig.camera.show(rig.photo("p07/img20.jpg"))
    online = FakeOnline()
    online.error = UplinkError("link dropped")
    result = rig.verifier(online).check(NIK)
    assert (result.outcome, result.reference_source) == (Outcome.PENDING, "none")


def test_printed_photo_is_stopped_by_the_challenge_and_never_sent_online(rig: Rig) -> None:
    rig.camera.show(rig.photo("p01/img1.jpg"))  # passive liveness far from clearly live
    online = FakeOnline(answer=OnlineAnswer("HIGH", "r"))
    spoofs: list[str] = []
    verifier = rig.verifier(online, on_spoof=spoofs.append)
    result = verifier.check(NIK)
    # No passive "spoof" by default: the challenge a still never does stops it, and retry is open.
    assert (result.outcome, result.liveness_band) == (Outcome.RETRY, "uncertain")
    assert online.calls == []
    # The portal hears of it as a kind, without the NIK.
    assert len(spoofs) == 1 and spoofs[0].split(":")[0] == "uncertain" and NIK not in spoofs[0]


def test_spoof_suspicions_reach_the_audit_log_without_personal_data(tmp_path: object) -> None:
    from kiosk.agents.audit_store import AuditLog
    from kiosk.app import _spoof_suspected
    from kiosk.store.db import connect

    conn = connect(tmp_path / "audit.sqlite3")  # type: ignore[operator]
    log = AuditLog(conn, FakeClock())
    _spoof_suspected({"audit": log}, "spoof:turn_left")
    _spoof_suspected({}, "spoof:blink")  # before the audit log exists: nothing, no error
    entries = log.entries()
    assert [(e.kind, e.actor, e.subject) for e in entries] == [
        ("spoof_suspected", None, "spoof:turn_left")
    ]


def test_uncertain_liveness_without_the_challenge_is_retry(rig: Rig) -> None:
    rig.enrol("p01/img1.jpg")
    rig.camera.show(rig.photo("p01/img2.jpg"))  # a blink is asked and never comes
    uncertain = uncertain_about(rig.face_pipeline, rig.photo("p01/img2.jpg"))
    result = _verifier(rig.camera, uncertain, rig.refs, rig.clock).check(NIK)
    assert (result.outcome, result.liveness_band) == (Outcome.RETRY, "uncertain")


def test_no_face_returns_coaching_without_a_decision(rig: Rig, blank: np.ndarray) -> None:
    rig.camera.show(blank)
    start = rig.clock.monotonic()
    result = rig.verifier().check(NIK)
    assert result.template is None and result.coaching == "no_face"
    assert result.match_band is None and result.liveness_band is None
    assert rig.clock.monotonic() - start >= 5.0  # the capture budget was spent, not more
    assert rig.clock.monotonic() - start <= 5.0 + 3.0 + 1.5


def test_dead_camera_returns_coaching_after_the_budget(rig: Rig) -> None:
    rig.camera.show(None)
    result = rig.verifier().check(NIK)
    assert result.template is None and result.coaching == "no_face"


def test_on_claim_is_told_the_nik_before_the_capture(rig: Rig) -> None:
    claims: list[str] = []

    def claim(nik: str) -> None:
        claims.append(nik)
        rig.camera.show(rig.photo("p07/img20.jpg"))

    result = rig.verifier(on_claim=claim).check(NIK)
    assert claims == [NIK] and rig.refs.asked == [NIK]
    assert result.outcome is Outcome.PENDING


def test_live_coaching_and_preview(rig: Rig, blank: np.ndarray) -> None:
    verifier = rig.verifier()
    assert verifier.coaching() is None and verifier.preview_jpeg() is None
    rig.camera.show(blank)
    assert verifier.coaching() == "no_face"
    rig.clock.advance(1.0)
    rig.camera.show(rig.photo("p05/img59.jpg"))
    assert verifier.coaching() == "ok"
    jpeg = verifier.preview_jpeg()
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"


def test_bad_timeouts_are_refused() -> None:
    with pytest.raises(ValueError, match="capture_s"):
        CaptureSettings(capture_s=0)
    with pytest.raises(ValueError, match="good_frames"):
        CaptureSettings(good_frames=0)
    with pytest.raises(ValueError, match="decision_s"):
        CaptureSettings(capture_s=20.0, decision_s=10.0)
    with pytest.raises(ValueError, match="poll_s"):
        FaceTimeouts(poll_s=0)


def _card_frame(pipeline: FacePipeline, photo: np.ndarray) -> np.ndarray:
    """A grey 640x480 frame with an e-KTP-like card carrying ``photo``'s face."""
    import cv2

    det = max(pipeline.detector.detect(photo), key=lambda d: d.size)
    x, y, w, h = (int(v) for v in det.box)
    pad = int(0.6 * max(w, h))
    crop = photo[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[140:340, 160:480] = (150, 190, 230)
    frame[170:310, 355:465] = cv2.resize(crop, (110, 140), interpolation=cv2.INTER_AREA)
    return frame


def test_id_card_is_supporting_evidence_only(rig: Rig) -> None:
    from kiosk.references.idcard import IdCardMatcher

    verifier = rig.verifier(id_card=IdCardMatcher(rig.face_pipeline))
    live = template_to_bytes(rig.face_pipeline.embed_image(rig.photo("p05/img59.jpg")))
    rig.camera.show(_card_frame(rig.face_pipeline, rig.photo("p05/img16.jpg")))
    result = verifier.check_id_card(live)
    assert (result.outcome, result.reference_source) == (Outcome.PENDING, "id_card")
    assert result.match_band in ("HIGH", "MEDIUM") and result.template == live
    stranger = template_to_bytes(rig.face_pipeline.embed_image(rig.photo("p09/img24.jpg")))
    other = verifier.check_id_card(stranger)
    assert (other.outcome, other.reference_source) == (Outcome.PENDING, "id_card")
    assert other.match_band in ("LOW", "NONE")


def test_id_card_without_a_card_coaches(rig: Rig, blank: np.ndarray) -> None:
    from kiosk.errors import FlowError
    from kiosk.references.idcard import IdCardMatcher

    live = template_to_bytes(rig.face_pipeline.embed_image(rig.photo("p05/img59.jpg")))
    with pytest.raises(FlowError, match="not configured"):
        rig.verifier().check_id_card(live)
    verifier = rig.verifier(id_card=IdCardMatcher(rig.face_pipeline))
    rig.camera.show(blank)
    result = verifier.check_id_card(live)
    assert result.template is None and result.coaching == "no_card_face"


def test_two_people_are_coached_not_matched(rig: Rig) -> None:
    import cv2

    rig.enrol("p05/img16.jpg")
    left = cv2.resize(rig.photo("p03/img8.jpg"), (320, 480))  # two faces of about one size
    right = cv2.resize(rig.photo("p09/img25.jpg"), (320, 480))
    rig.camera.show(np.hstack([left, right]))
    start = rig.clock.monotonic()
    result = rig.verifier().check(NIK)
    assert result.template is None and result.coaching == "multiple_faces"
    assert result.match_band is None
    assert rig.clock.monotonic() - start <= STILL.capture_s + 1.0
