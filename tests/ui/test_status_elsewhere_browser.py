"""Status for a registration made at ANOTHER kiosk, in headless Chromium at 800x480, over the
real mosquitto broker with the reference portal answering (issue 15, "the status check finds
only registrations made at this kiosk").

Kiosk A registers a villager and delivers the record; the portal decides it. At kiosk B, which
holds no record of that person, the villager types NIK + receipt code: B asks the portal (a
sealed query by NIK digest, a signed answer) and shows the office's decision, saying it is the
office's answer. With B's link down, B's own registrations are shown as this kiosk's record,
saying the office could not be asked, and A's code says the office could not be asked rather
than "no such registration".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import Checker, browse, check_status, type_on_keypad
from test_visit_browser import PENDING_NIK, register_through_the_service
from ui_kit import Kit, build_kit

from kiosk.config import KioskConfig
from kiosk.core.clock import SystemClock
from kiosk.core.session import Outcome
from kiosk.crypto.atrest import keyed_hash
from kiosk.crypto.envelope import sealer_from_config
from kiosk.uplink.service import build_uplink
from kiosk.uplink.status_query import PortalStatusQuery, attach
from tests.fixtures.mqtt import Pki, Portal, install_portal_signing_key, wait_for
from tests.fixtures.status_kiosk import NIK, Side

pytestmark = [pytest.mark.browser, pytest.mark.broker, pytest.mark.slow]


@dataclass
class Village:
    """Kiosk A (services only), kiosk B (the browser's kiosk, its own uplink), the portal."""

    a: Side
    b: Kit
    b_uplink: Any
    portal: Portal
    c: Checker
    b_tmp: Path  # kiosk B's UI database folder
    b_cfg: KioskConfig
    query: PortalStatusQuery


@pytest.fixture
def village(
    cfg: KioskConfig,
    kiosk_config: Any,
    portal: Portal,
    pki: Pki,
    chromium: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Village]:
    a_cfg = kiosk_config("kiosk-a-01")
    b_net = kiosk_config("kiosk-b-01")
    for k in (a_cfg, b_net):
        portal.enroll(k)
        install_portal_signing_key(k, pki)
    a = Side(a_cfg)
    # kiosk B: the UI test configuration (replay camera, shared models) on B's link and keys
    b_cfg = cfg.model_copy(
        update={
            "device": b_net.device,
            "uplink": b_net.uplink,
            "paths": cfg.paths.model_copy(update={"data_dir": b_net.paths.data_dir}),
        }
    )
    b_uplink = build_uplink(b_cfg, SystemClock())
    query = PortalStatusQuery(
        b_uplink,
        sealer_from_config(b_cfg),
        device_id=b_cfg.device.id,
        clock=SystemClock(),
        timeout_s=8.0,
    )
    attach(b_uplink, query)
    (tmp_path / "b-ui").mkdir()
    b = build_kit(b_cfg, tmp_path / "b-ui", portal_status=query)
    a.uplink.start()
    b_uplink.start()
    try:
        wait_for(lambda: a.uplink.online and b_uplink.online, 15, "both kiosks online")
        prefix = "status-elsewhere-" + ("agent-" if "agent" in request.node.name else "")
        with browse(chromium, b.app, prefix) as (_server, c):
            yield Village(a, b, b_uplink, portal, c, tmp_path / "b-ui", b_cfg, query)
    finally:
        a.uplink.stop()
        b_uplink.stop()


def test_a_villager_sees_at_kiosk_b_the_decision_on_a_registration_made_at_kiosk_a(
    village: Village,
) -> None:
    v = village
    page, c = v.c.page, v.c
    assert v.portal.rx is not None
    receipt, record_id = v.a.register()
    wait_for(lambda: v.a.repo.delivery(record_id) == "acked", 20, "registration acked")
    v.portal.rx.send_status(v.a.cfg.device.id, record_id, "eligible")
    # kiosk B holds nothing about this person
    assert v.b.repo.by_nik(keyed_hash(v.b.lookup_key, "nik", NIK)) == []

    check_status(v.c.page, v.c, NIK, receipt, to_result=False)
    page.wait_for_url("**/status/result")
    c.screen("from-the-portal")
    card = page.locator(".status-card").first
    assert receipt in card.inner_text()
    assert page.locator(".status-card.status-eligible").count() == 1
    assert page.get_attribute(".status-source", "data-source") == "portal"
    source = page.inner_text(".status-source")
    assert "Ini jawaban kantor" in source, source  # the office's answer, just now (Indonesian)

    # kiosk B's link goes down: B's own registration shows as B's record, saying why
    v.b_uplink.stop()
    wait_for(lambda: not v.b_uplink.online, 10, "kiosk B offline")
    own = register_through_the_service(v.b, PENDING_NIK, Outcome.PENDING)
    check_status(v.c.page, v.c, PENDING_NIK, own, to_result=False)
    page.wait_for_url("**/status/result")
    c.screen("offline-own-record")
    assert page.get_attribute(".status-source", "data-source") == "kiosk"
    assert "Kantor tidak dapat ditanya barusan" in page.inner_text(".status-source")

    # ... and A's code, which B cannot know offline, says the office could not be asked
    check_status(v.c.page, v.c, NIK, receipt, to_result=False)
    page.wait_for_selector("#code-error")
    c.screen("offline-elsewhere")
    error = page.inner_text("#code-error")
    assert "Kantor tidak dapat ditanya" in error and "kios lain" in error, error
    for action in ("#code-form button[type=submit]", "#code-form a.btn"):  # nothing cut off
        box = page.locator(action).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 480, f"{action} cut off: {box}"


def test_an_agent_at_kiosk_b_looks_up_a_residents_status_from_kiosk_a(village: Village) -> None:
    """The agent's lookup goes through the same path: NIK, then (online) the receipt code, the
    office's answer for a registration this kiosk never saw, audited; the objection on the
    resident's behalf starts from it."""
    from types import SimpleNamespace

    from agent_doubles import attach_agents
    from objection_kit import with_objections
    from test_agent_browser import full_login
    from test_visit_browser import jpeg

    v = village
    page, c = v.c.page, v.c
    assert v.portal.rx is not None
    agents = attach_agents(v.b, v.b_tmp)
    with_objections(v.b, v.b_cfg, v.b_tmp, jpeg, agents=agents.svc, portal_status=v.query)
    receipt, record_id = v.a.register()
    wait_for(lambda: v.a.repo.delivery(record_id) == "acked", 20, "registration acked")
    v.portal.rx.send_status(v.a.cfg.device.id, record_id, "not_eligible", "penghasilan di atas")

    full_login(SimpleNamespace(page=page, c=c))
    page.goto(c.base + "/agent/status")
    type_on_keypad(page, NIK)
    page.click("#nik-form button[type=submit]")
    page.wait_for_selector("#code-form")
    c.screen("code")
    assert page.locator("#kiosk-only").count() == 1  # no receipt: this kiosk's record only
    type_on_keypad(page, receipt.replace("-", ""))
    page.click("#code-form button[type=submit]")
    page.wait_for_selector(".status-card")
    c.screen("from-the-portal")
    assert receipt in page.inner_text(".status-card")
    assert page.locator(".status-card.status-not_eligible").count() == 1
    assert "penghasilan di atas" in page.inner_text(".status-card")
    assert page.get_attribute(".status-source", "data-source") == "portal"
    back = page.locator("main .actions a.btn").last.bounding_box()
    assert back is not None and back["y"] + back["height"] <= 480, f"Back cut off: {back}"
    entries = [(e.kind, e.actor) for e in agents.svc.audit.entries()]
    assert ("status_lookup", "AG-PKH-01") in entries

    page.click("form[action='/agent/objection'] button")
    page.wait_for_url("**/objection/reason")
    c.screen("objection-reason")
