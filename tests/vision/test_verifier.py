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
from kiosk.errors import FlowError, UplinkError
from kiosk.references.idcard import CardReferences, IdCardMatcher
from kiosk.references.online import OnlineAnswer
from kiosk.references.store import Reference
from kiosk.vision.capture import CaptureSettings
from kiosk.vision.pipeline import FacePipeline, template_to_bytes
from kiosk.vision.verifier import CameraFaceVerifier, FaceTimeouts
from tests.fixtures.idcard import card_frame
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


def _card_verifier(rig: Rig) -> CameraFaceVerifier:
    cards = CardReferences(rig.refs, "3510012001")
    matcher = IdCardMatcher(rig.face_pipeline)
    verifier = CameraFaceVerifier(
        rig.camera,
        rig.face_pipeline,
        cards,
        DecisionPolicy(),
        clock=rig.clock,
        timeouts=FaceTimeouts(STILL),
        sleep=rig.clock.advance,
        id_card=matcher,
        cards=cards,
    )
    return verifier


def test_the_e_ktp_photo_is_the_reference_when_the_village_set_has_none(rig: Rig) -> None:
    verifier = _card_verifier(rig)
    assert verifier.id_card_needed(NIK)
    rig.camera.show(card_frame(rig.face_pipeline, "p05/img16.jpg"))
    assert verifier.read_id_card(NIK) is None
    assert not verifier.id_card_needed(NIK)  # shown once is enough for this NIK
    rig.camera.show(rig.photo("p05/img59.jpg"))
    same = verifier.check(NIK)
    assert (same.outcome, same.reference_source) == (Outcome.PENDING, "id_card")
    assert same.match_band in ("HIGH", "MEDIUM") and same.template is not None
    rig.camera.show(rig.photo("p09/img24.jpg"))
    other = verifier.check(NIK)  # never verified on a card: the portal confirms
    assert (other.outcome, other.reference_source) == (Outcome.PENDING, "id_card")
    assert other.match_band in ("LOW", "NONE")
    verifier.forget_id_card()
    rig.camera.show(rig.photo("p05/img59.jpg"))
    assert verifier.check(NIK).reference_source == "none"  # the card is gone with the session


def test_no_card_in_view_is_coached_and_a_village_reference_needs_no_card(
    rig: Rig, blank: np.ndarray
) -> None:
    verifier = _card_verifier(rig)
    rig.camera.show(blank)
    assert verifier.read_id_card(NIK) == "no_card_face"
    assert verifier.id_card_needed(NIK)
    rig.enrol("p05/img16.jpg")
    assert not verifier.id_card_needed(NIK)
    with pytest.raises(FlowError, match="not configured"):
        rig.verifier().read_id_card(NIK)
    assert not rig.verifier().id_card_needed(NIK)


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
