"""The villager flow through Flask's test client (server side: states, validation, privacy)."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient
from ui_doubles import face
from ui_kit import GOOD_NIK, Kit

from kiosk.core.members import WG_DOMAINS
from kiosk.core.session import Outcome


def csrf(client: FlaskClient) -> str:
    """The CSRF token of this browser session (rendering a page creates it)."""
    page = client.get("/language").get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert m
    return m.group(1)


def post(client: FlaskClient, url: str, **data: object) -> object:
    """POST a form with the CSRF token."""
    return client.post(url, data={"csrf_token": csrf(client), **data})


ANSWERS_FOR_KIND = {
    "single": None,
    "multi": None,
    "integer": "2",
    "yesno": "no",
    "text": "3510011501200003",
}


HEAD = {
    "name": "Siti Aminah",
    "nik": "",
    "relation": "head",
    "sex": "F",
    "age": "45",
    "school": "left",
    "work": "farmer",
    "chronic": "no",
}
NO_DIFFICULTY = {f"wg_{d}": "none" for d in WG_DOMAINS}


def add_member(client: FlaskClient, page: int, **over: str) -> object:
    """Enter one member on their two screens (the head, unless ``over`` says otherwise)."""
    r = post(client, f"/household/{page}/member", action="next", **{**HEAD, **over})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]  # type: ignore[attr-defined]
    if r.headers["Location"].endswith("/health"):  # type: ignore[attr-defined]
        r = post(client, f"/household/{page}/member/health", **NO_DIFFICULTY, pregnant="no")
    return r


def answer_all(kit: Kit, client: FlaskClient) -> int:
    """Answer every questionnaire screen with a valid answer; return the screens seen."""
    from kiosk.core.forms import load_form

    form = load_form()
    url = "/household"
    for seen in range(1, 60):
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        member = re.search(r'action="/household/(\d+)/member"', html)
        if member:  # the member list starts with its first member
            add_member(client, int(member.group(1)))
            continue
        action = re.search(r'action="(/household/\d+)"', html)
        assert action, html[:500]
        answers = {}
        if 'id="members-label"' in html:  # the member list: Next checks it as a household
            r = post(client, action.group(1), action="next")
            assert r.status_code == 302, r.get_data(as_text=True)[:1500]  # type: ignore[attr-defined]
            url = r.headers["Location"]  # type: ignore[attr-defined]
            continue
        for q in (q for q in form.questions() if f'name="{q.id}"' in html):  # a screen's questions
            value = ANSWERS_FOR_KIND[q.kind] or q.choices()[0].code
            if q.choices_from:  # the village's first name when it offers a list, else typed
                listed = re.findall(rf'<select id="q-{q.id}".*?value="([^"]+)"', html, re.S)
                value = listed[0] if listed else "Krajan"
            if q.kind == "integer":
                value = str(q.min if q.min is not None and q.min > 0 else 1)
                if q.part_of is not None:  # children, elderly: part of the people on the card
                    value = "0"
            answers[q.id] = value
        assert answers, html[:500]
        r = post(client, action.group(1), action="next", **answers)
        assert r.status_code == 302, (answers, r.get_data(as_text=True)[:2000])  # type: ignore[attr-defined]
        url = r.headers["Location"]  # type: ignore[attr-defined]
        if url.endswith("/consent"):
            return seen
    raise AssertionError("questionnaire did not end")


def register_to_household(kit: Kit, client: FlaskClient) -> None:
    post(client, "/register")
    r = post(client, "/identify", nik=GOOD_NIK)
    assert r.headers["Location"].endswith("/face")  # type: ignore[attr-defined]
    r = post(client, "/face")
    assert r.headers["Location"].endswith("/result")  # type: ignore[attr-defined]


def test_full_registration_commits_and_shows_receipt(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    assert "Wajah Anda cocok dengan NIK" in c.get("/result").get_data(as_text=True)
    assert answer_all(kit, c) >= 15
    assert c.get("/consent").status_code == 200
    r = post(c, "/consent", decision="agree")
    assert r.headers["Location"].endswith("/review")  # type: ignore[attr-defined]
    assert c.get("/review").status_code == 200
    r = post(c, "/review", action="send")
    assert r.headers["Location"].endswith("/receipt")  # type: ignore[attr-defined]
    page = c.get("/receipt").get_data(as_text=True)
    assert kit.repo.count() == 1
    receipt = kit.sealer.sealed[0]["receipt_no"]
    assert receipt in page
    assert kit.sealer.sealed[0]["consent"]["version"] == "consent_v2"
    assert c.get("/receipt/qr.svg").mimetype == "image/svg+xml"
    assert receipt.encode() in kit.printer_file.read_bytes()
    post(c, "/finish")
    assert c.get("/receipt").status_code == 302


def test_bad_nik_says_what_is_wrong(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/register")
    r = post(c, "/identify", nik="35100145019")
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "16" in html and "11" in html and 'role="alert"' in html


def test_no_face_coaches_and_stays(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/register")
    post(c, "/identify", nik=GOOD_NIK)
    kit.verifier.script(face(coaching="too_dark"))
    r = post(c, "/face")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert 'class="coaching error"' in r.get_data(as_text=True)  # type: ignore[attr-defined]


def test_face_mismatch_retries_then_offers_agent(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/register")
    post(c, "/identify", nik=GOOD_NIK)
    kit.verifier.script(*(face(Outcome.RETRY) for _ in range(3)))
    for _ in range(2):
        post(c, "/face")
        assert "/result/retry" in c.get("/result").get_data(as_text=True)
        post(c, "/result/retry")
    post(c, "/face")
    page = c.get("/result").get_data(as_text=True)
    assert "/help" in page and "/result/retry" in page  # agent offered, no lock-out
    post(c, "/result/retry")
    assert c.get("/face").status_code == 200


def test_timeout_warns_then_wipes(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/register")
    kit.clock.advance(61)
    assert c.get("/api/session").get_json()["warned"] is True
    post(c, "/api/touch")
    assert c.get("/api/session").get_json()["warned"] is False
    kit.clock.advance(61)
    assert c.get("/api/session").get_json()["warned"] is True
    kit.clock.advance(40)  # the page has not said "are you still there?" yet: kept
    assert c.get("/api/session").get_json()["active"] is True
    post(c, "/api/warning-shown")
    kit.clock.advance(30)
    assert c.get("/api/session").get_json()["active"] is False
    assert c.get("/identify").headers["Location"].endswith("/ended")


def test_warning_shown_does_not_count_as_activity(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/register")
    kit.clock.advance(61)
    post(c, "/api/warning-shown")
    assert c.get("/api/session").get_json()["warned"] is True
    kit.clock.advance(30)
    assert c.get("/api/session").get_json()["active"] is False


def test_status_requires_face_verification(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    record = kit.sealer.sealed[0]
    kit.repo.set_status(record["record_id"], "not_eligible", "income above threshold", 1.0)
    post(c, "/finish")
    post(c, "/status")
    post(c, "/status/nik", nik=GOOD_NIK)
    kit.verifier.script(face(Outcome.RETRY))
    post(c, "/status/face")
    page = c.get("/status/result").get_data(as_text=True)
    assert record["receipt_no"] not in page and "income" not in page
    kit.verifier.script(face(Outcome.VERIFIED))
    post(c, "/status/face")
    page = c.get("/status/result").get_data(as_text=True)
    assert record["receipt_no"] in page and "income above threshold" in page
    assert "sanggah" in page


def test_csrf_is_required(kit: Kit) -> None:
    c = kit.app.test_client()
    r = c.post("/register")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert not kit.registration.active
    assert c.post("/register", data={"csrf_token": "forged"}).headers["Location"] == "/"
    assert not kit.registration.active


def test_security_headers_and_cookie(kit: Kit) -> None:
    c = kit.app.test_client()
    r = c.get("/language")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/language", headers={"Host": "evil.example"}).status_code == 400
    assert c.get("/language", headers={"Host": "localhost:8080"}).status_code == 200


def test_live_endpoints(kit: Kit) -> None:
    c = kit.app.test_client()
    j = c.get("/api/live").get_json()
    assert j["code"] == "too_far" and j["text"]
    assert c.get("/live/preview.jpg").status_code == 404  # no session
    kit.presence.here = True
    assert c.get("/api/presence").get_json() == {"present": True}
    assert json.loads(c.get("/api/qr").data)["nik"] is None


def test_language_resets_for_the_next_person(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/language", lang="en")
    assert "Register" in c.get("/menu").get_data(as_text=True)
    assert "data-idle-home" in c.get("/menu").get_data(as_text=True)
    post(c, "/register")
    post(c, "/finish")
    assert "Daftar" in c.get("/menu").get_data(as_text=True)
    post(c, "/language", lang="en")
    c.get("/")
    assert "Daftar" in c.get("/menu").get_data(as_text=True)


def test_review_changes_one_answer_and_keeps_the_consent(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    html = c.get("/review").get_data(as_text=True)
    edits = list(dict.fromkeys(re.findall(r'name="edit" value="(\d+)"', html)))  # by screen
    assert len(edits) >= 14
    r = post(c, "/review", edit=edits[1])
    assert r.headers["Location"].endswith(f"/household/{edits[1]}")  # type: ignore[attr-defined]
    page = c.get(f"/household/{edits[1]}").get_data(as_text=True)
    assert "Siti Aminah" in page and 'id="add-member"' in page  # the list so far
    add_member(c, int(edits[1]), name="Budi", relation="husband", sex="M", age="50")
    r = post(c, f"/household/{edits[1]}", action="next")
    assert r.headers["Location"].endswith("/review")  # type: ignore[attr-defined]
    reg = kit.registration.view(_token(c))
    assert [m["name"] for m in reg.answers["members"]] == ["Siti Aminah", "Budi"]
    assert reg.answers["members_count"] == 2 and reg.consent_given


def _token(c: FlaskClient) -> str:
    with c.session_transaction() as s:
        return str(s["reg"])


def test_chosen_language_stays_for_the_same_person(kit: Kit) -> None:
    c = kit.app.test_client()
    post(c, "/language", lang="en")
    post(c, "/register")
    page = c.get("/identify").get_data(as_text=True)
    assert 'lang="en"' in page, "choosing English then Register must not switch back"
