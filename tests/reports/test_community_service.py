"""Reports about a listed household and proposals: sealed records through the outbox, the
reporter only inside the envelope, audited, counted, limited per reporter."""

from __future__ import annotations

import datetime as dt

import pytest
from report_helpers import DW_PIN, KK, NIK, Kit, signed_list

from kiosk.errors import AgentAuthError, FormError, InputError, NikError, ReportLimited
from kiosk.reports.service import MAX_NOTE, Reporter
from kiosk.store import tally
from tests.fixtures.community import elder_household


@pytest.fixture
def listed(kit: Kit) -> Kit:
    assert kit.inbox(signed_list(kit.key))
    return kit


def roster_household(kit: Kit, token: str) -> str:
    saved = kit.agents.save_household(token, elder_household(KK, "RT 02 RW 01, dekat masjid"))
    return saved.household_id


def test_an_agent_reports_a_listed_household_with_a_villagers_nik(listed: Kit) -> None:
    token = listed.login()
    rid = listed.svc.report(
        Reporter(token, NIK), ref="H0004", reason="moved", note="  pindah ke  Surabaya "
    )
    [record] = listed.outbox("recipient_report")
    assert record["record_id"] == rid and record["household_ref"] == "H0004"
    assert record["reason"] == "moved" and record["note"] == "pindah ke Surabaya"
    assert record["reporter"] == {"nik": NIK, "agent_id": "AG-PKH-01"}
    assert record["list_version"] == 1
    last = listed.agents.audit.entries()[-1]
    assert (last.kind, last.actor, last.subject) == ("recipient_report", "AG-PKH-01", rid)
    # the kiosk keeps no NIK: a keyed hash for the limit, the NIK only inside the sealed record
    text_rows = listed.conn.execute(
        "SELECT key FROM report_throttle UNION ALL SELECT COALESCE(subject, '') FROM audit_log"
        " UNION ALL SELECT metric || dusun FROM tally"
    ).fetchall()
    assert not any(NIK in r[0] for r in text_rows)
    keys = [r[0] for r in listed.conn.execute("SELECT key FROM report_throttle")]
    assert len(keys) == 1 and NIK not in keys[0]
    counts = tally.totals(listed.conn, dt.date(2020, 1, 1), dt.date(2030, 1, 1))
    assert counts.get("recipient_report", "Sumberejo") == 1  # H0004 lives in Sumberejo
    assert counts.total("record:recipient_report") == 1


def test_a_cadre_proposes_a_neighbour_from_the_roster(listed: Kit) -> None:
    token = listed.login("AG-DW-01", DW_PIN)
    hid = roster_household(listed, token)
    [choice] = listed.svc.roster_choices(token)
    assert (choice.household_id, choice.head) == (hid, "Mbah Karto")
    rid = listed.svc.propose(
        Reporter(token),
        reasons=["bedridden", "elderly_alone", "bedridden"],
        dusun="Sumberejo",
        rt="2",
        roster_household_id=hid,
        note="Sudah dua tahun terbaring di tempat tidur",
    )
    [record] = listed.outbox("proposal")
    assert record["record_id"] == rid and record["roster_household_id"] == hid
    assert record["household"] == {
        "name": "Mbah Karto",
        "dusun": "Sumberejo",
        "rt": "2",
        "address": "RT 02 RW 01, dekat masjid",
    }
    assert record["reasons"] == ["bedridden", "elderly_alone"]
    assert record["reporter"] == {"nik": None, "agent_id": "AG-DW-01"}
    assert listed.agents.audit.entries()[-1].kind == "proposal"


def test_a_pkh_agent_cannot_propose_from_someone_elses_roster(listed: Kit) -> None:
    cadre = listed.login("AG-DW-01", DW_PIN)
    hid = roster_household(listed, cadre)
    token = listed.login()
    assert listed.svc.roster_choices(token) == []
    with pytest.raises(AgentAuthError):
        listed.svc.propose(
            Reporter(token), reasons=["bedridden"], dusun="Krajan", rt="1", roster_household_id=hid
        )
    assert listed.outbox("proposal") == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"note": "x" * (MAX_NOTE + 1)}, "note"),
        ({"note": f"NIK-nya {NIK}"}, "note_number"),
        ({"reasons": []}, "reasons"),
        ({"reasons": ["rich"]}, "reasons"),
        ({"dusun": "Atlantis"}, "dusun"),
        ({"rt": "RT1"}, "rt"),
        ({"name": "1"}, "name"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_proposals_are_refused_naming_the_field(listed: Kit, kwargs: dict, field: str) -> None:
    token = listed.login()
    args = {"reasons": ["bedridden"], "name": "Mbah Sarinah", "dusun": "Krajan", "rt": "3"}
    args.update(kwargs)
    with pytest.raises(FormError) as err:
        listed.svc.propose(Reporter(token), **args)
    assert err.value.field == field
    assert listed.outbox("proposal") == []


def test_reports_need_a_listed_household_a_known_reason_and_a_reporter(listed: Kit) -> None:
    token = listed.login()
    with pytest.raises(InputError):
        listed.svc.report(Reporter(token), ref="NOPE", reason="moved")
    with pytest.raises(FormError):
        listed.svc.report(Reporter(token), ref="H0001", reason="dislike")
    with pytest.raises(NikError):
        listed.svc.report(Reporter(token, "1234"), ref="H0001", reason="moved")
    with pytest.raises(InputError):
        listed.svc.report(Reporter(None, None), ref="H0001", reason="moved")
    assert listed.outbox("recipient_report") == []


def test_a_flood_from_one_nik_is_refused_and_a_quiet_day_resets_it(listed: Kit) -> None:
    token = listed.login()
    for i in range(3):
        listed.svc.propose(
            Reporter(token, NIK),
            reasons=["disaster"],
            name=f"Keluarga {'ABC'[i]}",
            dusun="Krajan",
            rt="1",
        )
    with pytest.raises(ReportLimited) as err:
        listed.svc.report(Reporter(token, NIK), ref="H0001", reason="deceased")
    assert err.value.wait_s == pytest.approx(3600)
    assert len(listed.outbox("proposal")) == 3 and listed.outbox("recipient_report") == []
    assert listed.agents.audit.entries()[-1].kind == "report_limited"
    # another villager through the same agent is not held back by the first one's limit
    listed.svc.report(Reporter(token, "3510014501900001"), ref="H0001", reason="deceased")
    listed.clock.advance(3601)  # after the delay: one more, then a doubled wait
    token = listed.login()
    listed.svc.report(Reporter(token, NIK), ref="H0002", reason="well_off")
    with pytest.raises(ReportLimited) as err:
        listed.svc.report(Reporter(token, NIK), ref="H0003", reason="well_off")
    assert err.value.wait_s == pytest.approx(7200)
    listed.clock.advance(86400)
    token = listed.login()
    for ref in ("H0005", "H0006", "H0007"):
        listed.svc.report(Reporter(token, NIK), ref=ref, reason="moved")


def test_no_report_before_the_portal_published_a_list(kit: Kit) -> None:
    token = kit.login()
    assert kit.svc.page(token, 1) is None
    with pytest.raises(InputError):
        kit.svc.report(Reporter(token), ref="H0001", reason="moved")
