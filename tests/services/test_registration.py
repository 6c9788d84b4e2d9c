"""RegistrationService: NIK -> face -> answers -> consent -> sealed, committed record."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.family_card import FamilyAnswer, PortalFamily, kk_digest
from kiosk.core.forms import load_consent, load_form
from kiosk.core.session import IdCardStep, Outcome, State
from kiosk.crypto.fake import JsonSealer
from kiosk.errors import FlowError, NikError, SessionExpired, StorageFullError
from kiosk.services.ports import FaceCheckResult
from kiosk.services.registration import RegistrationService
from kiosk.store import db
from kiosk.store.registrations import RegistrationRepository
from kiosk.vision.fake import ScriptedVerifier
from tests.fixtures.app import Graph, compose

NIK = "3510014507900001"


def face(
    outcome: Outcome, source: str = "village_set", match: str | None = "HIGH"
) -> FaceCheckResult:
    return FaceCheckResult(outcome, b"\x01" * 512, source, match, "live", None, capture="frame")


NO_FACE = FaceCheckResult(Outcome.RETRY, None, None, None, None, "no_face")


@pytest.fixture
def parts(
    tmp_path: Path, clock: FakeClock, cfg: KioskConfig, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    conn = db.connect(tmp_path / "k.sqlite3")
    return {"conn": conn, "sealer": JsonSealer(), "clock": clock, "cfg": cfg, "mp": monkeypatch}


def service(
    parts: dict[str, Any],
    results: list[FaceCheckResult],
    id_cards: Any = None,
    families: Any = None,
    audit: Any = None,
) -> RegistrationService:
    """The registration service as the composition root builds it (``kiosk.app``)."""
    graph = compose(
        parts["cfg"],
        parts["conn"],
        parts["clock"],
        verifier=ScriptedVerifier(*results),
        sealer=parts["sealer"],
        objections=False,
        id_cards=id_cards,
        families=families,
        audit=audit,
    )
    return graph.registration


def identified(
    parts: dict[str, Any], results: list[FaceCheckResult]
) -> tuple[RegistrationService, str]:
    """The service and a session whose NIK (``NIK``) was accepted: the face steps are next."""
    svc = service(parts, results)
    token = svc.start()
    svc.identify(token, NIK)
    return svc, token


def disk_full(parts: dict[str, Any]) -> None:
    """The data partition reports no free space (until ``parts["mp"].undo()``)."""
    real = shutil.disk_usage
    parts["mp"].setattr(db.shutil, "disk_usage", lambda path: real(path)._replace(free=0))


def registered(graph: Graph) -> str:
    """One whole registration of ``NIK`` through the registration service; its receipt."""
    return graph.register(NIK)


def walk_to_review(svc: RegistrationService) -> str:
    token = svc.start()
    svc.identify(token, "3510 0145 0790 0001")
    svc.check_face(token)
    svc.household(token, {"members": 4})
    svc.consent(token, True)
    return token


def test_full_registration_commits_sealed_record_with_provenance(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED)])
    token = walk_to_review(svc)
    receipt = svc.submit(token)
    conn: sqlite3.Connection = parts["conn"]
    row = conn.execute("SELECT receipt_no, verification, nik_hmac FROM registration").fetchone()
    assert row[0] == receipt and row[1] == "verified"
    assert NIK not in row[2], "the NIK is stored only as a keyed hash"
    assert conn.execute("SELECT state FROM outbox").fetchone()[0] == "pending"
    [record] = parts["sealer"].sealed
    assert record["nik"] == NIK and record["answers"] == {"members": 4}
    assert record["verification"] == {
        "outcome": "verified",
        "reference_source": "village_set",
        "match_band": "HIGH",
        "liveness_band": "live",
        "attempts": 1,
        "assisted_by": None,
        "vouch_id": None,
        "id_card": None,
        "review_required": False,
    }
    assert record["consent"]["version"] == load_consent().version
    assert record["clock"]["boot_id"] == "boot-1" and record["clock"]["synced"] is False
    assert svc.view(token).state is State.SUBMITTED
    assert svc.view(token).nik is None, "personal data wiped once committed"


def test_no_usable_face_keeps_the_person_at_the_camera(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [NO_FACE, face(Outcome.PENDING, "none", None)])
    assert svc.check_face(token).coaching == "no_face"
    assert svc.view(token).state is State.CAPTURE and svc.view(token).attempts == 0
    svc.check_face(token)
    assert svc.view(token).state is State.HOUSEHOLD


def test_three_mismatches_lead_to_the_agent_path(parts: dict[str, Any]) -> None:
    svc, token = identified(
        parts, [face(Outcome.RETRY, match="LOW")] * 3 + [face(Outcome.VERIFIED)]
    )
    for _ in range(3):
        svc.check_face(token)
    assert svc.view(token).state is State.NEEDS_AGENT
    svc.check_face(token)  # trying once more is always allowed
    assert svc.view(token).state is State.HOUSEHOLD


def test_bad_nik_is_refused_with_its_reason(parts: dict[str, Any]) -> None:
    svc = service(parts, [])
    token = svc.start()
    with pytest.raises(NikError, match="16 digits") as refused:
        svc.identify(token, "12345")
    assert refused.value.code == "too_short"
    assert svc.view(token).state is State.IDENTIFY


def test_disk_full_refuses_and_stores_nothing(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED)])
    token = walk_to_review(svc)
    disk_full(parts)
    with pytest.raises(StorageFullError):
        svc.submit(token)
    assert parts["conn"].execute("SELECT COUNT(*) FROM registration").fetchone()[0] == 0
    assert svc.view(token).state is State.REVIEW, "the person can try again: nothing lost"
    parts["mp"].undo()
    assert svc.submit(token)


def test_submit_only_from_review(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    with pytest.raises(FlowError):
        svc.submit(token)


def test_timeout_wipes_and_expires_the_session(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    parts["clock"].advance(61)
    svc.tick()
    svc.warning_shown(token)  # the page said "are you still there?"
    parts["clock"].advance(30)
    svc.tick()
    assert not svc.active
    with pytest.raises(SessionExpired):
        svc.view(token)


def test_a_new_person_replaces_the_previous_session(parts: dict[str, Any]) -> None:
    svc = service(parts, [])
    first = svc.start()
    svc.identify(first, NIK)
    svc.start()
    with pytest.raises(SessionExpired):
        svc.view(first)


def test_refused_consent_ends_the_session(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.household(token, {})
    svc.consent(token, False)
    assert not svc.active


def test_walking_away_ends_and_wipes_the_session(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [])
    assert svc.view(token).nik == NIK
    svc.end_all("walked_away")
    assert not svc.active
    with pytest.raises(SessionExpired):
        svc.view(token)


def test_receipt_code_is_twelve_digits_grouped_with_a_check_digit(parts: dict[str, Any]) -> None:
    from kiosk.core.ids import parse_receipt

    svc = service(parts, [face(Outcome.VERIFIED)])
    receipt = svc.submit(walk_to_review(svc))
    assert len(receipt) == 14 and receipt.replace("-", "").isdigit()
    assert parse_receipt(receipt) == receipt


def test_second_visit_is_version_two_of_the_same_registration(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED), face(Outcome.VERIFIED)])
    first = svc.submit(walk_to_review(svc))
    token = svc.start()
    svc.identify(token, NIK)
    assert svc.existing(token) is None, "nothing is revealed before the face step"
    svc.check_face(token)
    found = svc.existing(token)
    assert found is not None and found.receipt_no == first and found.version == 1
    svc.household(token, {"members": 5})
    svc.consent(token, True)
    again = svc.submit(token)
    assert again == first, "an update keeps the receipt code"
    v1, v2 = parts["sealer"].sealed
    assert v1["registration"] == {"id": v1["record_id"], "version": 1, "same_family_card": False}
    assert v2["registration"] == {"id": v1["record_id"], "version": 2, "same_family_card": False}
    assert v2["record_id"] != v1["record_id"], "each version is its own outbox record"
    rows = (
        parts["conn"]
        .execute("SELECT registration_id, version FROM registration ORDER BY version")
        .fetchall()
    )
    assert rows == [(v1["record_id"], 1), (v1["record_id"], 2)]


KK = "3510011501200003"


def test_the_same_family_card_from_another_person_becomes_the_next_version(
    parts: dict[str, Any],
) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED), face(Outcome.VERIFIED)])
    svc.check_face(token)
    assert svc.family_card(token, KK) is None  # a new family card
    svc.household(token, {"kk_number": KK, "members_count": 4})
    svc.consent(token, True)
    first = svc.submit(token)
    parts["clock"].advance(3600)
    token = svc.start()
    svc.identify(token, "3510014507850002")  # the wife, on the same KK
    svc.check_face(token)
    assert svc.existing(token) is None, "her NIK has no registration"
    found = svc.family_card(token, KK)
    assert found is not None and found.members_count == 4 and found.version == 1
    svc.household(token, {"kk_number": KK, "members_count": 5})
    svc.consent(token, True)
    second = svc.submit(token)
    assert second != first, "another person's receipt code is never shown"
    v1, v2 = parts["sealer"].sealed
    assert v2["registration"] == {"id": v1["record_id"], "version": 2, "same_family_card": True}
    rows = (
        parts["conn"]
        .execute(
            "SELECT registration_id, version, members_count FROM registration ORDER BY version"
        )
        .fetchall()
    )
    assert rows == [(v1["record_id"], 1, 4), (v1["record_id"], 2, 5)]
    dump = "\n".join(parts["conn"].iterdump())
    assert KK not in dump, "the No. KK is stored only as a keyed hash"


def test_a_person_s_own_family_card_is_not_flagged_twice(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED), face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.household(token, {"kk_number": KK, "members_count": 4})
    svc.consent(token, True)
    first = svc.submit(token)
    token = svc.start()
    svc.identify(token, NIK)
    svc.check_face(token)
    assert svc.family_card(token, KK) is None, "their own registration: already an update"
    svc.household(token, {"kk_number": KK, "members_count": 4})
    svc.consent(token, True)
    assert svc.submit(token) == first


class Families:
    """The portal's family card lookup as the service sees it: a scripted answer."""

    def __init__(self, answer: FamilyAnswer | None, available: bool = True) -> None:
        self.answer = answer
        self.available = available
        self.asked: list[str] = []

    def ask(self, digest: str) -> FamilyAnswer | None:
        self.asked.append(digest)
        return self.answer if self.available else None


ELSEWHERE = PortalFamily("0193a0a0-0000-7000-8000-00000000000a", 3, 1_780_000_000.0, 5)


def test_a_family_card_registered_at_another_kiosk_becomes_its_next_version(
    parts: dict[str, Any],
) -> None:
    families = Families(FamilyAnswer(ELSEWHERE))
    svc = service(parts, [face(Outcome.VERIFIED)], families=families)
    token = svc.start()
    svc.identify(token, NIK)
    svc.check_face(token)
    found = svc.family_card(token, KK)
    assert families.asked == [kk_digest(KK)], "asked by digest, never the No. KK"
    assert found is not None and found.source == "portal" and found.receipt_no == ""
    assert (found.registration_id, found.version, found.members_count) == (
        ELSEWHERE.registration_id,
        3,
        5,
    )
    assert svc.known_family(token) == found
    svc.household(token, {"kk_number": KK, "members_count": 6})
    svc.consent(token, True)
    assert svc.view(token).family_check == "portal"
    receipt = svc.submit(token)
    record = parts["sealer"].sealed[-1]
    assert record["registration"] == {
        "id": ELSEWHERE.registration_id,
        "version": 4,
        "same_family_card": True,
    }
    assert record["receipt_no"] == receipt, "the person's own receipt code"


def test_the_portal_is_not_asked_for_a_card_this_kiosk_holds(parts: dict[str, Any]) -> None:
    families = Families(FamilyAnswer(ELSEWHERE))
    svc = service(parts, [face(Outcome.VERIFIED), face(Outcome.VERIFIED)], families=families)
    token = svc.start()
    svc.identify(token, NIK)
    svc.check_face(token)
    svc.household(token, {"kk_number": KK})
    svc.consent(token, True)
    svc.submit(token)
    token = svc.start()
    svc.identify(token, "3510014507850002")
    svc.check_face(token)
    families.asked.clear()
    found = svc.family_card(token, KK)
    assert found is not None and found.source == "kiosk" and families.asked == []


def test_offline_or_unanswered_the_card_is_checked_at_this_kiosk_only(
    parts: dict[str, Any],
) -> None:
    for families in (Families(None), Families(FamilyAnswer(ELSEWHERE), available=False), None):
        svc = service(parts, [face(Outcome.VERIFIED)], families=families)
        token = svc.start()
        svc.identify(token, NIK)
        svc.check_face(token)
        assert svc.family_card(token, KK) is None
        assert svc.view(token).family_check == "kiosk"
    known = service(parts, [face(Outcome.VERIFIED)], families=Families(FamilyAnswer(None)))
    token = known.start()
    known.identify(token, NIK)
    known.check_face(token)
    assert known.family_card(token, KK) is None
    assert known.view(token).family_check == "portal", "the portal said: not known"


def test_a_person_s_own_registration_at_the_portal_is_not_flagged(
    parts: dict[str, Any],
) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED), face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.household(token, {"kk_number": "3510011501200099"})
    svc.consent(token, True)
    svc.submit(token)
    own = parts["sealer"].sealed[-1]["registration"]["id"]
    mine = PortalFamily(own, 1, 1_780_000_000.0, None)
    svc2 = service(parts, [face(Outcome.VERIFIED)], families=Families(FamilyAnswer(mine)))
    token = svc2.start()
    svc2.identify(token, NIK)
    svc2.check_face(token)
    assert svc2.family_card(token, KK) is None, "their own registration: already an update"


class AuditLog:
    """The agents' audit port as the service sees it: ``audit(kind, actor, subject)``."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str | None]] = []
        self.fail: Exception | None = None

    def __call__(self, kind: str, actor: str, subject: str | None) -> None:
        if self.fail is not None:
            raise self.fail
        self.entries.append((kind, actor, subject))


def at_family_card(
    parts: dict[str, Any], families: Any, assisted_by: str | None = "AG-PKH-01"
) -> tuple[RegistrationService, str, AuditLog]:
    """A session (assisted by ``assisted_by``) past its face check, up to the No. KK."""
    audit = AuditLog()
    svc = service(parts, [face(Outcome.VERIFIED)], families=families, audit=audit)
    token = svc.start(assisted_by=assisted_by)
    svc.identify(token, NIK)
    svc.check_face(token)
    return svc, token, audit


def test_an_agent_shown_a_family_card_held_at_another_kiosk_is_audited_once(
    parts: dict[str, Any],
) -> None:
    svc, token, audit = at_family_card(parts, Families(FamilyAnswer(ELSEWHERE)))
    assert svc.family_card(token, KK) is not None
    assert audit.entries == [("family_card_elsewhere", "AG-PKH-01", ELSEWHERE.registration_id)]
    assert svc.family_card(token, KK) is not None  # the No. KK screen sent again: no new flag
    assert len(audit.entries) == 1
    assert not any(KK in str(e) or NIK in str(e) for e in audit.entries), "ids only"


def test_no_family_card_audit_without_an_agent_or_without_the_portal_s_flag(
    parts: dict[str, Any],
) -> None:
    svc, token, audit = at_family_card(parts, Families(FamilyAnswer(ELSEWHERE)), None)
    assert svc.family_card(token, KK) is not None  # a villager alone: the flag, no agent
    for families in (Families(FamilyAnswer(None)), Families(None), None):  # unknown, offline
        svc, token, more = at_family_card(parts, families)
        assert svc.family_card(token, KK) is None
        assert more.entries == []
    assert audit.entries == []


def test_a_family_card_flag_that_cannot_be_audited_is_not_shown(parts: dict[str, Any]) -> None:
    svc, token, audit = at_family_card(parts, Families(FamilyAnswer(ELSEWHERE)))
    audit.fail = StorageFullError("the kiosk's storage is full; nothing was saved")
    with pytest.raises(StorageFullError):
        svc.family_card(token, KK)
    assert svc.known_family(token) is None, "not remembered: the next try audits and shows it"
    audit.fail = None
    assert svc.family_card(token, KK) is not None
    assert [e[0] for e in audit.entries] == ["family_card_elsewhere"]


def test_a_portal_registration_id_the_audit_cannot_hold_still_names_the_agent(
    parts: dict[str, Any],
) -> None:
    odd = PortalFamily("1" * 36, 1, 1_780_000_000.0, 2)  # schema-valid, but NIK-like digits
    svc, token, audit = at_family_card(parts, Families(FamilyAnswer(odd)))
    assert svc.family_card(token, KK) is not None
    assert audit.entries == [("family_card_elsewhere", "AG-PKH-01", None)]


def test_submit_is_idempotent_for_a_session(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED)])
    token = walk_to_review(svc)
    receipt = svc.submit(token)
    assert svc.submit(token) == receipt
    assert RegistrationRepository(parts["conn"]).count() == 1


def test_crash_after_commit_the_retry_finds_the_committed_row(
    parts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.core.session import RegistrationSession

    svc = service(parts, [face(Outcome.VERIFIED)])
    token = walk_to_review(svc)

    def crash(self: RegistrationSession, receipt_no: str) -> None:
        raise RuntimeError("power cut between the commit and the receipt")

    original = RegistrationSession.submitted
    monkeypatch.setattr(RegistrationSession, "submitted", crash)
    with pytest.raises(RuntimeError):
        svc.submit(token)
    monkeypatch.setattr(RegistrationSession, "submitted", original)
    receipt = svc.submit(token)  # the person touches "Send" again
    assert RegistrationRepository(parts["conn"]).count() == 1
    assert parts["conn"].execute("SELECT receipt_no FROM registration").fetchone()[0] == receipt
    assert len(parts["sealer"].sealed) == 1


def test_consent_record_says_which_text_was_heard(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.household(token, {"members": 4})
    svc.heard(token, "full")
    svc.consent(token, True)
    svc.submit(token)
    assert parts["sealer"].sealed[0]["consent"]["heard"] == "full"
    heard = parts["conn"].execute("SELECT consent_heard FROM registration").fetchone()[0]
    assert heard == "full"


def test_delivery_is_the_outbox_state_of_this_record(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED)])
    token = walk_to_review(svc)
    svc.submit(token)
    assert svc.view(token).delivery == "pending"
    parts["conn"].execute("UPDATE outbox SET state = 'acked'")
    assert svc.view(token).delivery == "acked"


def test_the_view_is_a_read_only_snapshot(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.answer(token, {"members": 4}, more_screens=True)
    view = svc.view(token)
    with pytest.raises(TypeError):
        view.answers["members"] = 9  # type: ignore[index]
    with pytest.raises(AttributeError):
        view.state = State.REVIEW  # type: ignore[misc]
    assert svc.view(token).answers == {"members": 4} and svc.view(token).state is State.HOUSEHOLD


def test_the_registration_nik_rule_is_the_services_own_minimum_age(
    parts: dict[str, Any],
) -> None:
    svc = service(parts, [])
    svc._parse_nik = svc._parse_registrant_nik  # the rule the composition root relies on
    token = svc.start()
    parts["clock"].set_wall(1_780_000_000.0)  # 28 May 2026
    with pytest.raises(NikError):
        svc.identify(token, "3510014501100001")  # born 5 January 2010: 16 years old
    svc.identify(token, "3510014501900001")  # born 5 January 1990
    assert svc.view(token).state is State.CAPTURE


def complete_answers() -> dict[str, Any]:
    """An answer to every question of the kiosk's questionnaire (one member, first choices)."""
    answers: dict[str, Any] = {"kk_number": "3510011203150001", "dusun": "Krajan"}
    for q in load_form().questions():
        if q.kind == "members":
            head = {"name": "Siti Aminah", "relation": "head", "sex": "F", "age": 45}
            answers[q.id] = [head]
        elif q.kind in ("single", "multi"):
            code = q.choices()[0].code
            answers[q.id] = code if q.kind == "single" else [code]
    return answers


def test_paging_back_to_review_after_one_answer(parts: dict[str, Any]) -> None:
    svc, token = identified(parts, [face(Outcome.VERIFIED)])
    svc.check_face(token)
    svc.household(token, complete_answers())
    svc.consent(token, True)
    svc.edit(token, one_answer=True)
    assert svc.answer(token, {"assets": ["television"]}, more_screens=True).state is State.REVIEW
    svc.edit(token)  # change everything: screen after screen
    assert svc.answer(token, {"floor": "soil"}, more_screens=True).state is State.HOUSEHOLD
    assert svc.answer(token, {}, more_screens=False).state is State.REVIEW
    svc.edit(token, one_answer=True)  # an answer now missing is asked, not skipped
    assert svc.answer(token, {"assets": []}, more_screens=True).state is State.HOUSEHOLD


def test_a_face_attempt_is_refused_outside_the_camera_steps(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.VERIFIED)])
    token = svc.start()
    with pytest.raises(FlowError):
        svc.check_face(token)  # no NIK yet: the camera is not even asked
    svc.identify(token, NIK)
    step = svc.check_face(token)
    assert step.coaching is None and step.view.state is State.HOUSEHOLD
    assert svc.result(token).variant == "matched"


@dataclass
class FakeCards:
    """The e-KTP reader: the village set lacks ``missing``; each read answers from ``coaching``."""

    missing: set[str]
    coaching: list[str | None]
    held: set[str] = field(default_factory=set)
    forgotten: int = 0

    def id_card_needed(self, nik: str) -> bool:
        return nik in self.missing and nik not in self.held

    def read_id_card(self, nik: str) -> str | None:
        code = self.coaching.pop(0)
        if code is None:
            self.held.add(nik)
        return code

    def forget_id_card(self) -> None:
        self.held.clear()
        self.forgotten += 1


def test_the_e_ktp_step_comes_before_the_face_when_the_village_set_has_no_photo(
    parts: dict[str, Any],
) -> None:
    cards = FakeCards({NIK}, ["no_card_face", None])
    svc = service(parts, [face(Outcome.PENDING, "id_card", "MEDIUM")], cards)
    token = svc.start()
    with pytest.raises(FlowError):
        svc.read_id_card(token)  # not before the NIK
    svc.identify(token, NIK)
    assert svc.needs_id_card(token)
    assert svc.read_id_card(token) == "no_card_face"  # coached, still needed
    assert svc.needs_id_card(token)
    assert svc.read_id_card(token) is None
    assert not svc.needs_id_card(token)
    step = svc.check_face(token)
    assert step.view.outcome is Outcome.PENDING and step.face.reference_source == "id_card"
    svc.end(token, "abandoned")
    assert cards.held == set() and cards.forgotten >= 1  # the card leaves with the session


def test_a_skipped_card_and_a_known_face_need_no_e_ktp(parts: dict[str, Any]) -> None:
    cards = FakeCards({NIK}, [])
    svc = service(parts, [], cards)
    token = svc.start()
    svc.identify(token, NIK)
    svc.skip_id_card(token)
    assert not svc.needs_id_card(token)
    svc.change_nik(token)  # a new NIK asks again
    svc.identify(token, NIK)
    assert svc.needs_id_card(token)
    cards.missing.clear()  # the village set has the photo
    assert not svc.needs_id_card(token)
    plain = service(parts, [])  # a kiosk without a card reader
    other = plain.start()
    plain.identify(other, NIK)
    assert not plain.needs_id_card(other)


def test_a_person_without_their_card_is_recorded_for_the_office_s_review(
    parts: dict[str, Any],
) -> None:
    cards = FakeCards({NIK}, [None])
    svc = service(parts, [face(Outcome.PENDING, "none", None)], cards)
    token = svc.start()
    svc.identify(token, NIK)
    svc.skip_id_card(token)
    assert svc.view(token).id_card is IdCardStep.NOT_BROUGHT
    svc.change_nik(token)  # a corrected NIK asks for the card again, and forgets the answer
    assert svc.view(token).id_card is None
    svc.identify(token, NIK)
    svc.skip_id_card(token)
    svc.check_face(token)
    svc.household(token, {"members": 2})
    svc.consent(token, True)
    svc.submit(token)
    [record] = parts["sealer"].sealed
    verification = record["verification"]
    assert verification["outcome"] == "pending" and verification["id_card"] == "not_brought"
    assert verification["review_required"] is True


def test_a_card_that_was_read_is_provenance_not_a_review(parts: dict[str, Any]) -> None:
    svc = service(parts, [face(Outcome.PENDING, "id_card", "MEDIUM")], FakeCards({NIK}, [None]))
    token = svc.start()
    svc.identify(token, NIK)
    assert svc.read_id_card(token) is None
    svc.check_face(token)
    svc.household(token, {"members": 2})
    svc.consent(token, True)
    svc.submit(token)
    verification = parts["sealer"].sealed[-1]["verification"]
    assert verification["id_card"] == "read" and verification["review_required"] is False
