"""StatusService: receipt code + NIK opens a registration, no face needed; wrong codes are
limited; the face path opens records only on a verified match; agent lookups are audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_registration import NIK, face, registered

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.portal_status import PortalRegistration, PortalStatus, nik_digest
from kiosk.core.session import Outcome
from kiosk.errors import FlowError, SessionExpired
from kiosk.services import status as status_mod
from kiosk.services.status import StatusService, status_source, status_stage
from kiosk.store import db
from kiosk.store.registrations import RegistrationRepository
from kiosk.vision.fake import ScriptedVerifier
from tests.fixtures.app import compose

OTHER_NIK = "3510015208900002"


class Audit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str | None]] = []

    def __call__(self, kind: str, actor: str, subject: str | None) -> None:
        self.entries.append((kind, actor, subject))


@pytest.fixture
def env(tmp_path: Path, clock: FakeClock, cfg: KioskConfig) -> dict[str, Any]:
    conn = db.connect(tmp_path / "k.sqlite3")
    verifier = ScriptedVerifier(face(Outcome.PENDING, "none", None))
    audit = Audit()
    graph = compose(cfg, conn, clock, verifier=verifier, audit=audit, objections=False)
    receipt = registered(graph)
    verifier.calls.clear()  # the status checks' face checks, from here on
    return {
        "svc": graph.status,
        "receipt": receipt,
        "verifier": verifier,
        "audit": audit,
        "conn": conn,
        "clock": clock,
        "cfg": cfg,
    }


def test_receipt_code_and_nik_open_a_pending_registration_without_a_face(
    env: dict[str, Any],
) -> None:
    svc: StatusService = env["svc"]
    token = svc.start()
    svc.identify(token, NIK)
    answer = svc.receipt(token, env["receipt"].replace("-", ""))
    assert answer.result == "shown"
    [rec] = answer.records
    assert rec.receipt_no == env["receipt"] and rec.verification == "pending"
    assert status_stage(rec) == "saved" and status_source(rec) == "kiosk"
    assert env["verifier"].calls == [], "no face check was needed"
    assert svc.records(token) == answer.records


def test_the_code_of_another_nik_opens_nothing(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    token = svc.start()
    svc.identify(token, OTHER_NIK)
    answer = svc.receipt(token, env["receipt"])
    assert answer.result == "not_found" and answer.records == ()
    assert svc.records(token) is None


def test_a_mistyped_code_costs_no_try(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    token = svc.start()
    svc.identify(token, NIK)
    digits = env["receipt"].replace("-", "")
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert svc.receipt(token, wrong).result == "malformed"
    assert svc.receipt(token, env["receipt"]).result == "shown"


def test_wrong_codes_end_the_check_after_five(env: dict[str, Any]) -> None:
    from kiosk.core.ids import receipt_code

    svc: StatusService = env["svc"]
    token = svc.start()
    svc.identify(token, NIK)
    results = [svc.receipt(token, receipt_code(bytes([i]) * 8)).result for i in range(1, 6)]
    assert results == ["not_found"] * 4 + ["too_many"]
    with pytest.raises(SessionExpired):
        svc.get(token)


def test_many_wrong_codes_pause_the_kiosk_for_a_while(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.core.ids import receipt_code

    monkeypatch.setattr(status_mod, "KIOSK_CODE_FAILURES", 3)
    svc: StatusService = env["svc"]
    for i in range(3):
        token = svc.start()
        svc.identify(token, NIK)
        svc.receipt(token, receipt_code(bytes([i + 1]) * 8))
    token = svc.start()
    svc.identify(token, NIK)
    assert svc.receipt(token, env["receipt"]).result == "paused"
    env["clock"].advance(601)
    token = svc.start()
    svc.identify(token, NIK)
    assert svc.receipt(token, env["receipt"]).result == "shown"


def test_portal_status_is_said_to_come_from_the_portal(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    conn = env["conn"]
    record_id = conn.execute("SELECT record_id FROM registration").fetchone()[0]
    RegistrationRepository(conn).set_status(record_id, "not_eligible", "income", 5.0)
    token = svc.start()
    svc.identify(token, NIK)
    [rec] = svc.receipt(token, env["receipt"]).records
    assert status_source(rec) == "portal" and status_stage(rec) == "decided"


def test_face_path_opens_only_on_verified(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    env["verifier"].script(face(Outcome.PENDING, "none", None), face(Outcome.VERIFIED))
    token = svc.start()
    svc.identify(token, NIK)
    assert svc.check_face(token).shown is False
    assert svc.check_face(token).shown is True


def test_agent_lookup_is_audited(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    found = svc.lookup_for_agent(NIK, "agent-7")
    assert found is not None and found.records
    assert (found.source, found.why) == ("kiosk", "no_code")
    assert env["audit"].entries == [("status_lookup", "agent-7", found.records[0].registration_id)]
    with pytest.raises(FlowError):
        svc.lookup_for_agent(NIK, "")


class FakePortal:
    """A StatusQuery: online or not, holding one registration (digest, code) or none."""

    def __init__(self, held: tuple[str, str] | None, available: bool = True) -> None:
        self.held, self.available = held, available
        self.asked: list[tuple[str, str]] = []

    def ask(self, digest: str, receipt_no: str) -> PortalStatus | None:
        self.asked.append((digest, receipt_no))
        if not self.available:
            return None
        if (digest, receipt_no) != self.held:
            return PortalStatus("not_found", 5.0)
        reg = PortalRegistration(
            "reg-elsewhere", "rec-elsewhere", 1, receipt_no, "pending", "eligible", None, 1.0, 2.0
        )
        return PortalStatus("found", 5.0, (reg,))


def with_portal(env: dict[str, Any], portal: FakePortal) -> StatusService:
    """The status service of the same kiosk database, built with ``portal`` as its query."""
    graph = compose(
        env["cfg"],
        env["conn"],
        env["clock"],
        verifier=env["verifier"],
        audit=env["audit"],
        objections=False,
        portal_status=portal,
    )
    return graph.status


ELSEWHERE = "1111-2222-3334"


def test_agent_lookup_with_the_code_asks_the_portal_for_another_kiosks_registration(
    env: dict[str, Any],
) -> None:
    portal = FakePortal((nik_digest(OTHER_NIK), ELSEWHERE))
    svc = with_portal(env, portal)
    view = svc.lookup_for_agent(OTHER_NIK, "agent-7", ELSEWHERE.replace("-", ""))
    assert view is not None and view.source == "portal"
    assert [(r.registration_id, r.status) for r in view.records] == [("reg-elsewhere", "eligible")]
    assert portal.asked == [(nik_digest(OTHER_NIK), ELSEWHERE)]  # the digest, never the NIK
    assert env["audit"].entries == [("status_lookup", "agent-7", "reg-elsewhere")]
    assert svc.lookup_for_agent(OTHER_NIK, "agent-7", "1234") is None  # malformed: not asked
    assert len(portal.asked) == 1


def test_agent_lookup_says_why_it_shows_the_kiosk_record(env: dict[str, Any]) -> None:
    receipt = env["receipt"]
    svc = with_portal(env, FakePortal(None))
    view = svc.lookup_for_agent(NIK, "agent-7", receipt)
    assert view is not None and (view.source, view.why) == ("kiosk", "not_held")
    assert view.records[0].receipt_no == receipt
    svc = with_portal(env, FakePortal(None, available=False))
    view = svc.lookup_for_agent(NIK, "agent-7", receipt)
    assert view is not None and (view.source, view.why) == ("kiosk", "offline")


def test_a_code_unknown_here_while_offline_says_the_office_was_not_asked(
    env: dict[str, Any],
) -> None:
    for available, offline in ((False, True), (True, False)):
        svc = with_portal(env, FakePortal(None, available=available))
        token = svc.start()
        svc.identify(token, OTHER_NIK)
        answer = svc.receipt(token, ELSEWHERE)
        assert (answer.result, answer.offline) == ("not_found", offline)


def test_code_before_nik_is_a_flow_error(env: dict[str, Any]) -> None:
    svc: StatusService = env["svc"]
    token = svc.start()
    with pytest.raises(FlowError):
        svc.receipt(token, env["receipt"])


@pytest.mark.parametrize(
    ("status", "verification", "outbox", "stage"),
    [
        ("waiting", "pending", "pending", "saved"),
        ("waiting", "pending", "acked", "pending"),
        ("received", "vouched", "acked", "vouched"),
        ("received", "verified", "acked", "review"),
        ("verified", "pending", "acked", "review"),
        ("eligible", "verified", "acked", "decided"),
    ],
)
def test_stages(status: str, verification: str, outbox: str, stage: str) -> None:
    from kiosk.store.registrations import RegistrationStatus

    rec = RegistrationStatus("r", "0000-0000-0000", 0.0, verification, status, None, outbox)
    assert status_stage(rec) == stage
