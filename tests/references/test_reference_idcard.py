"""ID-card photo matching: its own thresholds, the card's face found, supporting evidence only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from kiosk.config import REPO_ROOT
from kiosk.core.policy import DecisionPolicy
from kiosk.core.session import Outcome
from kiosk.errors import ImageError
from kiosk.references.idcard import CardReferences, IdCardMatcher, IdCardThresholds
from kiosk.references.store import Reference
from kiosk.vision.camera.replay import fit_frame
from kiosk.vision.images import load_image
from kiosk.vision.pipeline import FacePipeline, template_from_bytes, template_to_bytes
from tests.fixtures.idcard import card_frame

SHARED = REPO_ROOT.parent / "shared"
FACES = SHARED / "faces" / "identities"


@pytest.fixture(scope="module")
def live_of(pipeline: FacePipeline) -> Callable[[str], bytes]:
    def embed(name: str) -> bytes:
        image = fit_frame(load_image(FACES / name, fit=(640, 480)), 640, 480)
        return template_to_bytes(pipeline.embed_image(image))

    return embed


def test_same_person_card_supports(pipeline: FacePipeline, live_of: Callable[[str], bytes]) -> None:
    evidence = IdCardMatcher(pipeline).match(
        card_frame(pipeline, "p05/img16.jpg"), live_of("p05/img59.jpg")
    )
    assert evidence.band in ("HIGH", "MEDIUM") and evidence.coaching is None


def test_other_person_card_does_not_support(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    evidence = IdCardMatcher(pipeline).match(
        card_frame(pipeline, "p05/img16.jpg"), live_of("p09/img24.jpg")
    )
    assert evidence.band in ("LOW", "NONE")


def test_smallest_face_is_the_card_even_with_the_holder_in_view(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    frame = card_frame(pipeline, "p05/img16.jpg", with_holder="p09/img24.jpg")
    assert len(pipeline.detector.detect(frame)) >= 2
    evidence = IdCardMatcher(pipeline).match(frame, live_of("p05/img59.jpg"))
    assert evidence.band in ("HIGH", "MEDIUM")


def test_no_card_face_is_coached(pipeline: FacePipeline, live_of: Callable[[str], bytes]) -> None:
    blank = np.full((480, 640, 3), 90, np.uint8)
    assert IdCardMatcher(pipeline).match(blank, live_of("p05/img59.jpg")).coaching == "no_card_face"


def test_too_small_card_face_is_coached(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    matcher = IdCardMatcher(pipeline, IdCardThresholds(min_face_px=400))
    evidence = matcher.match(card_frame(pipeline, "p05/img16.jpg"), live_of("p05/img59.jpg"))
    assert (evidence.band, evidence.coaching) == (None, "card_too_small")


def test_own_thresholds_change_the_band(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    frame = card_frame(pipeline, "p05/img16.jpg")
    strict = IdCardMatcher(pipeline, IdCardThresholds(high=0.99, medium=0.98, low=0.97))
    assert strict.match(frame, live_of("p05/img59.jpg")).band == "NONE"


def test_card_evidence_is_never_sole_proof(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    evidence = IdCardMatcher(pipeline).match(
        card_frame(pipeline, "p05/img16.jpg"), live_of("p05/img59.jpg")
    )
    outcome, _why = DecisionPolicy().decide("id_card", evidence.band, "live")
    assert outcome is Outcome.PENDING


def test_bad_inputs(pipeline: FacePipeline) -> None:
    with pytest.raises(ImageError, match="live template"):
        IdCardMatcher(pipeline).match(np.zeros((480, 640, 3), np.uint8), b"short")
    with pytest.raises(ImageError):
        IdCardMatcher(pipeline).card_embedding(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="high >= medium"):
        IdCardThresholds(high=0.1, medium=0.5)
    with pytest.raises(ValueError, match="min_face_px"):
        IdCardThresholds(min_face_px=0)


class Village:
    """A village set with one resident."""

    def __init__(self, nik: str, reference: Reference) -> None:
        self.refs = {nik: reference}

    def lookup(self, nik: str) -> Reference | None:
        return self.refs.get(nik)


NIK_IN_SET, NIK_NOT_IN_SET = "3510010101800001", "3510010101800002"


def test_the_card_face_is_the_reference_of_a_nik_the_village_set_lacks(
    pipeline: FacePipeline, live_of: Callable[[str], bytes]
) -> None:
    matcher = IdCardMatcher(pipeline)
    card = matcher.card_template(card_frame(pipeline, "p05/img16.jpg"))
    assert isinstance(card, bytes)
    village_ref = Reference(live_of("p09/img24.jpg"), "kk", "AB", "3510012001", 3)
    refs = CardReferences(Village(NIK_IN_SET, village_ref), "3510012001")
    assert refs.lookup(NIK_NOT_IN_SET) is None and not refs.holds(NIK_NOT_IN_SET)
    refs.hold(NIK_NOT_IN_SET, card)
    got = refs.lookup(NIK_NOT_IN_SET)
    assert got is not None and got.source == "id_card" and got.template == card
    assert "kk" not in repr(got) and NIK_NOT_IN_SET not in repr(got)
    assert refs.lookup(NIK_IN_SET) is village_ref and refs.in_village_set(NIK_IN_SET)
    assert refs.lookup("3510010101800003") is None  # the card counts only for its own NIK
    live = template_from_bytes(live_of("p05/img59.jpg"))
    assert matcher.band(live, template_from_bytes(card)) in ("HIGH", "MEDIUM")
    refs.forget()
    assert refs.lookup(NIK_NOT_IN_SET) is None


def test_no_card_in_view_gives_no_template(pipeline: FacePipeline) -> None:
    blank = np.full((480, 640, 3), 90, np.uint8)
    found = IdCardMatcher(pipeline).card_template(blank)
    assert not isinstance(found, bytes) and found.coaching == "no_card_face"
