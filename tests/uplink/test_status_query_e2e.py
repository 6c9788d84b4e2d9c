"""Status from the portal and objections (sanggah) over the real broker.

A registration made at kiosk A is decided by the portal; at kiosk B the person types NIK +
receipt code and sees the portal's answer (signed, asked by NIK digest, never the NIK); an
objection filed at B travels through B's outbox, the portal stores, checks and decides it, and
the next status check shows its state. Forged answers, no answer and no link all fall back to
the kiosk's own record, saying so.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from kiosk.core.portal_status import nik_digest
from kiosk.crypto.keys import load_signing_private_key
from kiosk.uplink.replies import sign_reply
from portal.references import make_signing_key
from portal.status_book import open_book
from portal.status_desk import StatusDesk
from tests.fixtures.mqtt import Broker, Pki, Portal, wait_for
from tests.fixtures.postgres import pg_dsn, pg_server  # noqa: F401 (fixtures)
from tests.fixtures.status_kiosk import NIK, start_kiosks
from tests.fixtures.workers import pg_worker

pytestmark = pytest.mark.broker

ANSWER_WAIT_S = 30.0
"""How long these kiosks wait for the portal's answer to a query. The kiosk's own bound (a few
seconds, then its own record) is tested with no answer, a forged one and no link; here the
answer must come, and on a loaded machine the round trip (seal, broker, portal thread, sign,
broker, verify) can take longer than that bound. A query returns as soon as its answer comes."""


def desk_knows(portal: Portal, receipt: str) -> bool:
    """The portal's status desk has indexed the registration with ``receipt`` (it does so after
    the commit and the ack: a decision sent before that would find no row to update)."""
    assert portal.rx is not None
    return bool(portal.rx.status_desk.book.lookup(nik_digest(NIK), receipt)[0])


@pytest.fixture
def two_kiosks(portal: Portal, kiosk_config, pki: Pki):
    sides = start_kiosks(
        portal, kiosk_config, pki, "kiosk-a-01", "kiosk-b-01", timeout_s=ANSWER_WAIT_S
    )
    yield sides[0], sides[1], portal
    for side in sides:
        side.uplink.stop()


def test_status_from_the_portal_objection_round_trip(two_kiosks, pki: Pki) -> None:
    a, b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

    # at kiosk B, before any decision: found at the portal, not at this kiosk
    _token, view = b.check(receipt)
    assert view.source == "portal" and view.records[0].status == "received"
    assert b.repo.by_nik("x") == []  # kiosk B holds no registration of its own

    portal.rx.send_status(a.cfg.device.id, record_id, "not_eligible", "income above the line")
    token, view = b.check(receipt)
    rec = view.records[0]
    assert (view.source, rec.status, rec.status_reason) == (
        "portal",
        "not_eligible",
        "income above the line",
    )
    target = b.status.target(token, rec.registration_id)
    assert target is not None and target.source == "portal"

    # file an objection at B with a note and a photographed document
    b.filing.begin(token, target)
    b.filing.choose_reason(token, "situation_changed")
    b.filing.set_note(token, "Suami saya sudah tidak bekerja sejak Oktober")
    assert b.filing.take_photo(token)
    objection_id = b.filing.submit(token)
    assert b.filing.submit(token) == objection_id  # a repeated "Send": the same objection
    wait_for(  # stored, then checked by the desk (after the commit and the ack)
        lambda: portal.rx is not None and portal.rx.status_desk.objection_state(objection_id),
        20,
        "objection stored and checked",
    )
    stored = portal.rx.store.get("kiosk-b-01", objection_id)
    assert stored is not None
    assert stored["nik_digest"] == nik_digest(NIK) and NIK not in json.dumps(stored)
    assert base64.b64decode(stored["evidence"]["data"]).startswith(b"\xff\xd8")
    desk = portal.rx.status_desk  # it takes the objection after the commit (intake order)
    wait_for(lambda: desk.objection_state(objection_id) is not None, 10, "objection at the desk")
    assert desk.objection_state(objection_id) == ("received", None)

    # a second objection while the first is open is refused, at the kiosk
    token2, view = b.check(receipt)
    assert [o.state for o in view.objections] == ["received"]
    target = b.status.target(token2, rec.registration_id)
    assert target is not None and b.filing.refusal(target) == "already_open"

    # the office decides; the next status check shows it (and kiosk B's row learns it)
    assert portal.rx.status_desk.decide_objection(objection_id, "rejected", "bukti kurang")
    _t, view = b.check(receipt)
    assert [(o.state, o.state_reason) for o in view.objections] == [("rejected", "bukti kurang")]
    assert b.objections.for_registration(rec.registration_id)[0].state == "rejected"


def test_no_answer_forged_answer_and_offline_fall_back_to_the_kiosk_record(
    two_kiosks, tmp_path: Path
) -> None:
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

    # a portal that answers with a key the kiosk does not trust: refused, kiosk record
    rogue, _ = make_signing_key(tmp_path / "rogue")
    genuine = portal.rx.status_desk._key
    portal.rx.status_desk._key = rogue
    a.query.requests.timeout_s = 2.0
    _t, view = a.check(receipt)
    assert view.source == "kiosk"
    wait_for(  # the forged answer may come after the kiosk stopped waiting: refused all the same
        lambda: a.uplink.inbound_report().get("unknown_key", 0) >= 1, 20, "forged answer refused"
    )
    portal.rx.status_desk._key = genuine

    # an unsigned answer on the kiosk's reply topic changes nothing either
    portal.send_unsigned(
        a.uplink, f"perlinsos/v1/kiosk/{a.cfg.device.id}/status_reply", b'{"v":1,"result":"found"}'
    )

    # the portal gone: the kiosk's own record, at once (no wait without a link)
    portal.stop()
    a.uplink.stop()
    started = time.monotonic()
    _t, view = a.check(receipt)
    assert view.source == "kiosk" and view.records[0].receipt_no == receipt
    assert time.monotonic() - started < 1.0


def test_a_signed_config_sets_the_window_a_forged_one_does_not(two_kiosks, tmp_path: Path) -> None:
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    rogue, _ = make_signing_key(tmp_path / "rogue")
    forged = sign_reply(
        "config",
        a.cfg.device.id,
        {"v": 1, "config_version": 50, "settings": {"objection_window_days": 365}},
        rogue,
    )
    portal.rx.publish_raw(f"perlinsos/v1/kiosk/{a.cfg.device.id}/config", forged, retain=True)
    portal.rx.send_config(a.cfg.device.id, 2, {"objection_window_days": 14})
    wait_for(lambda: a.filing.window_days == 14, 15, "signed window applied")
    assert a.filing.window_days == 14  # the forged 365 never applied


def test_objection_after_the_window_is_rejected_by_the_portal_too(two_kiosks) -> None:
    """A kiosk with a wrong rule sends an objection too late: the portal measures the window
    from its own decision time, keeps the objection as rejected with the reason, and the person
    sees that in the status."""
    a, _b, portal = two_kiosks
    assert portal.rx is not None
    receipt, record_id = a.register()
    wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")
    wait_for(lambda: desk_knows(portal, receipt), 20, "registration at the status desk")
    portal.rx.send_status(a.cfg.device.id, record_id, "eligible")
    token, view = a.check(receipt)
    target = a.status.target(token, view.records[0].registration_id)
    assert target is not None and a.filing.refusal(target) is None
    portal.rx.status_desk.objection_window_days = 0  # the portal's window has closed
    a.filing.begin(token, target)
    a.filing.choose_reason(token, "other")
    objection_id = a.filing.submit(token)
    wait_for(
        lambda: (
            portal.rx is not None
            and portal.rx.status_desk.objection_state(objection_id) is not None
        ),
        20,
        "objection stored",
    )
    assert portal.rx.status_desk.objection_state(objection_id) == (
        "rejected",
        "filed after the objection window closed",
    )
    _t, view = a.check(receipt)
    assert [o.state for o in view.objections] == ["rejected"]


@pytest.mark.postgres
def test_the_postgres_ingest_workers_answer_status_and_check_objections(
    broker: Broker,
    pki: Pki,
    kiosk_config,
    pg_dsn: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The same round trip with no reference portal: two ingest workers on a shared
    subscription write to PostgreSQL and run the status desk; an officer's desk (its own
    connection) decides. Kiosk B sees kiosk A's registration, its decision and the objection's
    state, whichever worker answers."""
    enrolment = Portal(broker, pki, tmp_path / "portal")  # its key directory only: not started
    signing = load_signing_private_key(pki.signing_private)
    desks = [StatusDesk(open_book("postgres", pg_dsn), signing) for _ in range(2)]
    keys = enrolment.keys_dir
    workers = [
        pg_worker(broker, pki, pg_dsn, keys, f"ingest-{i}", services={"status": d.service})
        for i, d in enumerate(desks)
    ]
    officer = StatusDesk(open_book("postgres", pg_dsn), signing)
    sides = []
    try:
        for w in workers:
            w.start()
            wait_for(w.connected.is_set, 10, "worker connected")
        sides = start_kiosks(
            enrolment, kiosk_config, pki, "kiosk-a-01", "kiosk-b-01", timeout_s=ANSWER_WAIT_S
        )
        a, b = sides
        receipt, record_id = a.register()
        wait_for(lambda: a.repo.delivery(record_id) == "acked", 20, "registration acked")

        _t, view = b.check(receipt)
        assert view.source == "portal" and view.records[0].status == "received"

        officer.decided(
            a.cfg.device.id, record_id, "not_eligible", "income above the line", time.time()
        )
        token, view = b.check(receipt)
        rec = view.records[0]
        assert (rec.status, rec.status_reason) == ("not_eligible", "income above the line")
        target = b.status.target(token, rec.registration_id)
        assert target is not None
        b.filing.begin(token, target)
        b.filing.choose_reason(token, "wrong_data")
        objection_id = b.filing.submit(token)
        wait_for(lambda: officer.objection_state(objection_id) is not None, 20, "objection checked")
        assert officer.objection_state(objection_id) == ("received", None)
        assert officer.decide_objection(objection_id, "upheld")
        _t, view = b.check(receipt)
        assert [o.state for o in view.objections] == ["upheld"]
    finally:
        for side in sides:
            side.uplink.stop()
        for w in workers:
            w.stop()
        for d in (*desks, officer):
            d.close()
