"""Objection screens through the Flask client: refusals are spoken screens with a way on, the
note keeps its text, the photo is served from memory only, "checking with the office" is said
only when the portal can be asked."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from objection_kit import with_objections
from test_visit_browser import PENDING_NIK, jpeg, register_through_the_service
from ui_kit import Kit

from kiosk.config import KioskConfig
from kiosk.core.session import Outcome

DAY = 86400.0


def post(c: FlaskClient, url: str, **form: str):  # type: ignore[no-untyped-def]
    page = c.get("/menu").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return c.post(url, data={"csrf_token": token.group(1), **form})


def opened(kit: Kit, days_ago: float) -> tuple[FlaskClient, str]:
    receipt = register_through_the_service(kit, PENDING_NIK, Outcome.PENDING)
    record_id = kit.sealer.sealed[-1]["record_id"]
    kit.repo.set_status(record_id, "not_eligible", "x", kit.clock.now() - days_ago * DAY)
    c = kit.app.test_client()
    post(c, "/status")
    post(c, "/status/nik", nik=PENDING_NIK)
    assert post(c, "/status/code", code=receipt).status_code == 302
    return c, record_id  # version 1: the registration id is its record id


def test_a_stale_objection_after_the_window_is_a_spoken_refusal(
    kit: Kit, cfg: KioskConfig, tmp_path: Path
) -> None:
    with_objections(kit, cfg, tmp_path, jpeg)
    c, rid = opened(kit, days_ago=40)
    page = c.get("/status/result").get_data(as_text=True)
    assert "objection-offer" not in page and "Masa sanggah" in page
    r = post(c, "/objection/start", registration_id=rid)
    assert r.status_code == 409
    body = r.get_data(as_text=True)
    assert "Masa sanggah untuk keputusan ini sudah berakhir" in body
    assert "/status/result" in body  # the way on
    assert "Sanggahan tidak dapat diajukan" in body


def test_note_photo_and_send(kit: Kit, cfg: KioskConfig, tmp_path: Path) -> None:
    objections = with_objections(kit, cfg, tmp_path, jpeg)
    c, rid = opened(kit, days_ago=1)
    assert post(c, "/objection/start", registration_id=rid).status_code == 302
    assert c.get("/objection/photo.jpg").status_code == 404  # nothing taken yet
    assert post(c, "/objection/reason", reason="nope").status_code == 422
    assert post(c, "/objection/reason", reason="other").status_code == 302
    long = "kata " * 120
    r = post(c, "/objection/note", note=long, action="next")
    assert r.status_code == 422 and "terlalu panjang" in r.get_data(as_text=True)
    assert long.strip() in r.get_data(as_text=True)  # kept for shortening
    assert post(c, "/objection/note", note="", action="skip").status_code == 302
    assert post(c, "/objection/photo", action="take").status_code == 200
    photo = c.get("/objection/photo.jpg")
    assert photo.data == jpeg() and photo.headers["Cache-Control"] == "no-store"
    assert post(c, "/objection/send").status_code == 302
    assert c.get("/objection/photo.jpg").status_code == 404  # sealed: no clear copy served
    assert len(objections.for_registration(rid)) == 1
    assert post(c, "/objection/send").status_code == 302  # a second Send: still one
    assert len(objections.for_registration(rid)) == 1
    r = post(c, "/objection/start", registration_id=rid)
    assert r.status_code == 409 and "sudah mengajukan sanggahan" in r.get_data(as_text=True)


def test_checking_is_said_only_when_the_portal_can_be_asked(
    kit: Kit, cfg: KioskConfig, tmp_path: Path
) -> None:
    with_objections(kit, cfg, tmp_path, jpeg)
    c = kit.app.test_client()
    post(c, "/status")
    post(c, "/status/nik", nik=PENDING_NIK)
    assert "data-busy-say" not in c.get("/status/code").get_data(as_text=True)

    class Online:
        available = True

        def ask(self, digest: str, receipt_no: str) -> None:
            return None

    kit.status._portal = Online()
    page = c.get("/status/code").get_data(as_text=True)
    assert 'data-busy-say="checking-audio"' in page and "Sedang menanyakan ke kantor" in page


def test_an_agent_files_an_objection_for_a_resident_audited(
    kit: Kit, cfg: KioskConfig, tmp_path: Path
) -> None:
    from agent_doubles import attach_agents
    from test_agent_flow import login

    agents = attach_agents(kit, tmp_path)
    objections = with_objections(kit, cfg, tmp_path, jpeg, agents=agents.svc)
    receipt = register_through_the_service(kit, PENDING_NIK, Outcome.PENDING)
    record_id = kit.sealer.sealed[-1]["record_id"]
    kit.repo.set_status(record_id, "not_eligible", "x", kit.clock.now())
    c = kit.app.test_client()
    login(c)
    page = post(c, "/agent/status", nik=PENDING_NIK).get_data(as_text=True)
    assert receipt in page and "Ajukan sanggahan untuk warga ini" in page
    r = post(c, "/agent/objection", nik=PENDING_NIK, registration_id=record_id)
    assert r.status_code == 302 and r.headers["Location"].endswith("/objection/reason")
    post(c, "/objection/reason", reason="not_received")
    post(c, "/objection/note", note="tidak pernah menerima", action="next")
    post(c, "/objection/photo", action="skip")
    assert post(c, "/objection/send").status_code == 302
    sealed = kit.sealer.sealed[-1]
    assert sealed["filed_by"] == {"role": "agent", "agent_id": "AG-PKH-01"}
    assert [o.filed_by for o in objections.for_registration(record_id)] == ["agent"]
    kinds = [(e.kind, e.actor) for e in agents.svc.audit.entries()]
    assert ("status_lookup", "AG-PKH-01") in kinds
    assert ("objection_filed", "AG-PKH-01") in kinds
