"""ObjectionService: an objection to a decision, inside the window, once per decision, with a
bounded note and a photo kept in memory only, committed through the outbox; every refusal has a
code and loses nothing already entered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_registration import NIK, face, registered

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.objection import NOTE_MAX_CHARS
from kiosk.core.portal_status import nik_digest
from kiosk.core.session import Outcome
from kiosk.crypto.fake import JsonSealer
from kiosk.errors import FlowError, ObjectionRefused
from kiosk.services.objection import EVIDENCE_MAX_BYTES
from kiosk.store import db
from kiosk.vision.fake import ScriptedVerifier
from tests.fixtures.app import compose

DAY = 86400.0
PHOTO = b"\xff\xd8\xff\xe0 document \xff\xd9"


@pytest.fixture
def env(tmp_path: Path, clock: FakeClock, cfg: KioskConfig) -> dict[str, Any]:
    conn = db.connect(tmp_path / "k.sqlite3")
    sealer = JsonSealer()
    photos: list[bytes | None] = [PHOTO]
    audit: list[tuple[str, str, str | None]] = []
    graph = compose(
        cfg,
        conn,
        clock,
        verifier=ScriptedVerifier(face(Outcome.PENDING, "none", None)),
        sealer=sealer,
        photo=lambda: photos[0],
        audit=lambda *entry: audit.append(entry),
        audit_tx=lambda _tx, *entry: audit.append(entry),
    )
    receipt = registered(graph)
    return {
        "status": graph.status,
        "filing": graph.filing,
        "repo": graph.repo,
        "record_id": sealer.sealed[-1]["record_id"],
        "receipt": receipt,
        "sealer": sealer,
        "photos": photos,
        "audit": audit,
        "outbox": graph.outbox,
        "clock": clock,
        "objections": graph.parts.objections,
    }


def opened(env: dict[str, Any]) -> tuple[str, Any]:
    status = env["status"]
    token = status.start()
    status.identify(token, NIK)
    assert status.receipt(token, env["receipt"]).result == "shown"
    rid = status.shown(token).records[0].registration_id
    return token, status.target(token, rid)


def test_no_objection_before_a_decision(env: dict[str, Any]) -> None:
    _token, target = opened(env)
    assert target is None  # nothing decided: nothing to object to


def test_file_an_objection_through_the_outbox(env: dict[str, Any]) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "income", env["clock"].now())
    token, target = opened(env)
    filing = env["filing"]
    assert target.status == "not_eligible" and filing.refusal(target) is None
    filing.begin(token, target)
    filing.choose_reason(token, "wrong_data")
    filing.set_note(token, "  Nama  saya\\nsalah ketik ")
    assert filing.take_photo(token)
    objection_id = filing.submit(token)
    assert filing.submit(token) == objection_id  # repeated Send: one objection
    sealed = env["sealer"].sealed[-1]
    assert sealed["objection_id"] == objection_id and sealed["nik_digest"] == nik_digest(NIK)
    assert sealed["note"] == "Nama saya\\nsalah ketik" and NIK not in str(sealed)
    assert sealed["filed_by"] == {"role": "villager", "agent_id": None}
    assert filing.draft(token).evidence is None  # sealed now: the clear photo is gone
    rows = env["outbox"].next_batch(10, env["clock"].now())
    assert [r.kind for r in rows] == ["registration", "objection"]
    # the status shows it, and a second objection is refused while it is open
    token2, target2 = opened(env)
    view = env["status"].shown(token2)
    assert [o.state for o in view.objections] == ["waiting"]
    assert filing.refusal(target2) == "already_open"
    with pytest.raises(ObjectionRefused) as err:
        filing.begin(token2, target2)
    assert err.value.code == "already_open"


def test_the_window_closes_and_the_portal_config_sets_it(env: dict[str, Any]) -> None:
    clock = env["clock"]
    env["repo"].set_status(env["record_id"], "eligible", None, clock.now() - 31 * DAY)
    _token, target = opened(env)
    filing = env["filing"]
    assert filing.refusal(target) == "window_closed"  # default 30 days
    filing.apply_config({"objection_window_days": 45})
    assert filing.refusal(target) is None
    for bad in (0, 366, "45", True, None, 4.5):
        filing.apply_config({"objection_window_days": bad})
        assert filing.window_days == 45  # out of range or mistyped: ignored


def test_a_closed_window_at_send_time_is_refused_and_the_draft_kept(env: dict[str, Any]) -> None:
    clock = env["clock"]
    env["repo"].set_status(env["record_id"], "eligible", None, clock.now() - 29 * DAY)
    token, target = opened(env)
    filing = env["filing"]
    filing.begin(token, target)
    filing.choose_reason(token, "other")
    filing.set_note(token, "ada")
    clock.set_wall(clock.now() + 2 * DAY)
    with pytest.raises(ObjectionRefused) as err:
        filing.submit(token)
    assert err.value.code == "window_closed"
    assert filing.draft(token).note == "ada"
    assert env["objections"].for_registration(target.registration_id) == []


def test_bad_input_is_refused_with_a_code_and_nothing_lost(env: dict[str, Any]) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "x", env["clock"].now())
    token, target = opened(env)
    filing = env["filing"]
    filing.begin(token, target)
    with pytest.raises(FlowError):
        filing.submit(token)  # no reason yet
    with pytest.raises(ObjectionRefused) as err:
        filing.choose_reason(token, "because")
    assert err.value.code == "bad_reason"
    filing.set_note(token, "pendek")
    with pytest.raises(ObjectionRefused) as err:
        filing.set_note(token, "x" * (NOTE_MAX_CHARS + 1))
    assert err.value.code == "note_too_long" and filing.draft(token).note == "pendek"
    filing.set_note(token, "x" * NOTE_MAX_CHARS)  # exactly the bound is fine
    env["photos"][0] = b"\xff" * (EVIDENCE_MAX_BYTES + 1)
    with pytest.raises(ObjectionRefused) as err:
        filing.take_photo(token)
    assert err.value.code == "evidence_too_large" and filing.draft(token).evidence is None
    env["photos"][0] = None  # no camera frame
    assert filing.take_photo(token) is False


def test_ending_the_status_check_forgets_the_draft(env: dict[str, Any]) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "x", env["clock"].now())
    token, target = opened(env)
    filing = env["filing"]
    filing.begin(token, target)
    filing.take_photo(token)
    env["status"].end(token)
    with pytest.raises(FlowError):
        filing.draft(token)


def test_an_agent_files_on_a_residents_behalf_audited(env: dict[str, Any]) -> None:
    env["repo"].set_status(env["record_id"], "not_eligible", "x", env["clock"].now())
    status, filing = env["status"], env["filing"]
    token = status.open_for_agent(NIK, "AG-PKH-01")
    rid = status.shown(token).records[0].registration_id
    filing.begin(token, status.target(token, rid), agent_id="AG-PKH-01")
    filing.choose_reason(token, "not_received")
    filing.submit(token)
    assert env["sealer"].sealed[-1]["filed_by"] == {"role": "agent", "agent_id": "AG-PKH-01"}
    kinds = [(k, actor) for k, actor, _s in env["audit"]]
    assert ("status_lookup", "AG-PKH-01") in kinds and ("objection_filed", "AG-PKH-01") in kinds
