"""Agent screens through Flask's test client: login, throttle, assist, vouch, roster."""

from __future__ import annotations

import re
from pathlib import Path

from agent_doubles import DW_PIN, PIN, Agents, attach_agents
from flask.testing import FlaskClient
from test_ui_flow import answer_all, post
from ui_doubles import face
from ui_kit import GOOD_NIK, Kit, build_kit, register

from kiosk.config import KioskConfig
from kiosk.core.family_card import FamilyAnswer, PortalFamily
from kiosk.core.session import Outcome


def login(client: FlaskClient, agent_id: str = "AG-PKH-01", pin: str = PIN) -> None:
    r = post(client, "/agent/login", agent_id=agent_id, pin=pin)
    assert r.status_code == 302 and r.headers["Location"].endswith("/agent/face")  # type: ignore[attr-defined]
    r = post(client, "/agent/face")
    assert r.status_code == 302 and r.headers["Location"].endswith("/agent/home")  # type: ignore[attr-defined]


def failed_three_times(kit: Kit) -> FlaskClient:
    """A villager's client after the NIK and three failed face checks (an agent may help)."""
    c = kit.app.test_client()
    post(c, "/register")
    post(c, "/identify", nik=GOOD_NIK)
    kit.verifier.script(face(Outcome.RETRY), face(Outcome.RETRY), face(Outcome.RETRY))
    for _ in range(3):
        post(c, "/result/retry")
        post(c, "/face")
    return c


def test_agent_mode_is_absent_without_the_service(kit: Kit) -> None:
    assert kit.app.test_client().get("/agent/login").status_code == 404
    assert "/agent/login" not in kit.app.test_client().get("/help").get_data(as_text=True)


def test_login_page_lists_agents_and_the_keypad(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    html = kit.app.test_client().get("/agent/login").get_data(as_text=True)
    assert "Bu Rina" in html and "Bu Sri" in html and 'class="keypad"' in html
    assert 'type="password"' in html


def test_wrong_pin_then_right_pin(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    r = post(c, "/agent/login", agent_id="AG-PKH-01", pin="000001")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert agents.matcher.calls == 0
    login(c)
    assert "Bu Rina" in c.get("/agent/home").get_data(as_text=True)


def test_face_mismatch_sends_back_to_login(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    agents.matcher.band = "LOW"
    c = kit.app.test_client()
    post(c, "/agent/login", agent_id="AG-PKH-01", pin=PIN)
    r = post(c, "/agent/face")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert c.get("/agent/home").status_code == 302


def test_throttled_login_says_how_long(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    for _ in range(5):
        r = post(c, "/agent/login", agent_id="AG-PKH-01", pin="000001")
    assert r.status_code == 429  # type: ignore[attr-defined]
    r = post(c, "/agent/login", agent_id="AG-PKH-01", pin=PIN)
    assert r.status_code == 429  # type: ignore[attr-defined]
    assert re.search(r"30 (detik|seconds)", r.get_data(as_text=True))  # type: ignore[attr-defined]


def test_agent_pages_need_a_login(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    for url in ("/agent/home", "/agent/vouch", "/agent/roster", "/agent/roster/new"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/agent/login")


def test_assisted_registration(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    login(c)
    r = post(c, "/agent/assist")
    assert r.headers["Location"].endswith("/identify")  # type: ignore[attr-defined]
    post(c, "/identify", nik=GOOD_NIK)
    post(c, "/face")
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    [record] = kit.sealer.sealed
    assert record["verification"]["assisted_by"] == "AG-PKH-01"


def test_vouch_after_three_failed_checks(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    c = failed_three_times(kit)
    assert "agent" in c.get("/result").get_data(as_text=True)
    help_page = post(c, "/help", back="/result")
    assert "/agent/login" in help_page.get_data(as_text=True)  # type: ignore[attr-defined]
    login(c)
    home = c.get("/agent/home").get_data(as_text=True)
    assert "/agent/vouch" in home
    r = post(c, "/agent/vouch", reason="bribe")
    assert r.status_code == 422  # type: ignore[attr-defined]
    r = post(c, "/agent/vouch", reason="old_id_photo")
    assert r.headers["Location"].endswith("/household")  # type: ignore[attr-defined]
    [vouch] = agents.outbox("vouch")
    assert vouch["reason"] == "old_id_photo" and vouch["agent_id"] == "AG-PKH-01"
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", action="send")
    [record] = kit.sealer.sealed
    assert record["verification"]["outcome"] == "vouched"
    assert record["verification"]["assisted_by"] == "AG-PKH-01"


def test_roster_add_edit_history(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    login(c, "AG-DW-01", DW_PIN)
    assert c.get("/agent/roster/new").status_code == 200
    form = {
        "kk": "3510011203150001",
        "address": "RT 01",
        "crop-rice": "1",
        "m0-name": "Siti Aminah",
        "m0-relation": "head",
        "m0-sex": "F",
        "m0-birth_year": "1958",
        "m0-work": "farmer",
        "m0-ill-hypertension": "1",
        "s0-code": "flood",
        "s0-month": "2026-10",
    }
    bad = post(c, "/agent/roster/save", **dict(form, kk="123"))
    assert bad.status_code == 422  # type: ignore[attr-defined]
    r = post(c, "/agent/roster/save", **form)
    assert r.status_code == 302  # type: ignore[attr-defined]
    listing = c.get("/agent/roster").get_data(as_text=True)
    assert "Siti Aminah" in listing and "0001" in listing
    hid = re.search(r'/agent/roster/([0-9a-f-]{36})"', listing).group(1)  # type: ignore[union-attr]
    edit = c.get(f"/agent/roster/{hid}").get_data(as_text=True)
    mid = re.search(r'name="m0-id" value="([^"]+)"', edit).group(1)  # type: ignore[union-attr]
    post(
        c, "/agent/roster/save", **dict(form, household_id=hid, **{"m0-id": mid, "crop-corn": "1"})
    )
    records = agents.outbox("household")
    assert len(records) == 2 and records[1]["household"]["crops"] == ["corn", "rice"]
    history = c.get(f"/agent/roster/{hid}/history").get_data(as_text=True)
    assert history.count("<li") >= 3


def test_roster_is_for_dasa_wisma_cadres(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    login(c)
    assert "/agent/roster" not in c.get("/agent/home").get_data(as_text=True)
    assert c.get("/agent/roster").headers["Location"].endswith("/agent/home")


def test_logout_and_presence(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    login(c)
    agents.svc.presence_lost()
    assert c.get("/agent/home").headers["Location"].endswith("/agent/login")
    login(c)
    post(c, "/agent/logout")
    assert not agents.svc.active()


def test_help_requests_show_on_the_home_screen(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    req = agents.svc.request_help("button")
    c = kit.app.test_client()
    login(c)
    home = c.get("/agent/home").get_data(as_text=True)
    assert req.request_id in home
    post(c, f"/agent/help/{req.request_id}")
    assert agents.svc.pending_help() == []


def test_resident_waiting_is_kept_alive_while_the_agent_logs_in(kit: Kit, tmp_path: Path) -> None:
    attach_agents(kit, tmp_path)
    c = failed_three_times(kit)
    for _ in range(3):  # the agent takes 3 x 80 s to log in: more than the villager time-out
        kit.clock.advance(80)
        c.get("/agent/login")
    login(c)
    r = post(c, "/agent/vouch", reason="elderly")
    assert r.headers["Location"].endswith("/household")  # type: ignore[attr-defined]


def test_agent_looks_up_a_residents_status_and_it_is_audited(kit: Kit, tmp_path: Path) -> None:
    agents = attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    receipt = register(kit, GOOD_NIK)
    login(c)
    assert 'href="/agent/status"' in c.get("/agent/home").get_data(as_text=True)
    r = post(c, "/agent/status", nik=GOOD_NIK)
    page = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert receipt in page and "Tersimpan di kios ini" in page
    kinds = [(e.kind, e.actor) for e in agents.svc.audit.entries()]
    assert ("status_lookup", "AG-PKH-01") in kinds
    r = post(c, "/agent/status", nik="123")
    assert r.status_code == 422  # type: ignore[attr-defined]


def test_the_roster_cap_setting_is_enforced_with_its_reason(kit: Kit, tmp_path: Path) -> None:
    from kiosk.core.upkeep import RosterPolicy

    agents = attach_agents(kit, tmp_path)
    agents.svc.roster_policy = RosterPolicy(cap=1)  # [agents] roster_cap = 1
    c = kit.app.test_client()
    login(c, "AG-DW-01", DW_PIN)
    form = {
        "kk": "3510011203150001",
        "m0-name": "Siti Aminah",
        "m0-relation": "head",
        "m0-sex": "F",
        "m0-birth_year": "1958",
    }
    assert post(c, "/agent/roster/save", **form).status_code == 302  # type: ignore[attr-defined]
    listing = c.get("/agent/roster").get_data(as_text=True)
    assert "1 dari paling banyak 1" in listing and 'id="add-household"' not in listing
    refused = post(c, "/agent/roster/save", **dict(form, kk="3510011203150002"))
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "paling banyak berisi 1 rumah tangga" in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert len(agents.outbox("household")) == 1, "nothing stored past the cap"


class PortalFamilies:
    """The portal's answer about a No. KK: registered at another kiosk (the real query:
    tests/uplink/test_family_query_e2e.py over the broker)."""

    available = True

    def ask(self, digest: str) -> FamilyAnswer:
        return FamilyAnswer(PortalFamily(ELSEWHERE, 2, 1_780_000_000.0, 4))


ELSEWHERE = "0193a0a0-0000-7000-8000-00000000000a"
KK = "3510011501200003"


def post_family_card(c: FlaskClient) -> str:
    """On the No. KK screen (after the face check): the No. KK and its dusun, Next; where to."""
    html = c.get("/household", follow_redirects=True).get_data(as_text=True)
    action = re.search(r'action="(/household/\d+)"', html)
    assert action and 'name="kk_number"' in html, html[:500]
    listed = re.findall(r'<select id="q-dusun".*?value="([^"]+)"', html, re.S)
    r = post(c, action.group(1), action="next", kk_number=KK, dusun=(listed or ["Krajan"])[0])
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]  # type: ignore[attr-defined]
    return str(r.headers["Location"])  # type: ignore[attr-defined]


def shown_the_portal_s_flag(cfg: KioskConfig, tmp_path: Path, *, assisted: bool) -> Agents:
    """A registration (assisted by Bu Rina, or a villager alone) whose No. KK the portal holds
    from another kiosk, up to the "di kios lain" screen; the kiosk's agent service."""
    kit = build_kit(cfg, tmp_path, families=PortalFamilies())
    agents = attach_agents(kit, tmp_path)
    c = kit.app.test_client()
    if assisted:
        login(c)
    post(c, "/agent/assist" if assisted else "/register")
    post(c, "/identify", nik=GOOD_NIK)
    post(c, "/face")
    assert post_family_card(c).endswith("/household/1/known")
    assert "di kios lain" in c.get("/household/1/known").get_data(as_text=True)
    c.get("/household/1/known")  # seen again (a reload): the same flag
    return agents


def test_an_agent_shown_a_family_card_held_at_another_kiosk_is_audited(
    cfg: KioskConfig, tmp_path: Path
) -> None:
    agents = shown_the_portal_s_flag(cfg, tmp_path, assisted=True)
    logged_in = [e.kind for e in agents.svc.audit.entries()].index("assisted_start") + 1
    new = [(e.kind, e.actor, e.subject) for e in agents.svc.audit.entries()[logged_in:]]
    assert new == [("family_card_elsewhere", "AG-PKH-01", ELSEWHERE)], "once, reload or not"
    assert agents.svc.verify_audit().ok
    kept = repr(agents.svc.audit.entries())
    assert KK not in kept and GOOD_NIK not in kept, "ids only: no No. KK, no NIK"


def test_a_villager_alone_shown_the_flag_writes_no_agent_audit(
    cfg: KioskConfig, tmp_path: Path
) -> None:
    agents = shown_the_portal_s_flag(cfg, tmp_path, assisted=False)
    assert "family_card_elsewhere" not in [e.kind for e in agents.svc.audit.entries()]
