"""A villager finds one listed household by dusun, RT and the first letters of its head's name:
only the few that match come back (the list stays for agents), and the report is filed under
the villager's own NIK, limited per NIK like every reporter."""

from __future__ import annotations

import pytest
from report_helpers import NIK, Kit, signed_list

from kiosk.audio.tone import ToneMicrophone
from kiosk.core import voice
from kiosk.errors import FormError, InputError, ReportLimited
from kiosk.reports.service import FIND_MAX, Reporter


@pytest.fixture
def listed(kit: Kit) -> Kit:
    assert kit.inbox(signed_list(kit.key))
    return kit


def test_only_the_households_of_that_dusun_rt_and_letters(listed: Kit) -> None:
    found = listed.svc.find("Krajan", "01", "kep")  # a leading zero is the same RT
    assert found is not None and [h.ref for h in found] == ["H0000", "H0012"]
    assert [h.ref for h in listed.svc.find("Krajan", "1", "m12") or ()] == ["H0012"]
    assert listed.svc.find("Sumberejo", "2", "xyz") == []


@pytest.mark.parametrize(
    ("dusun", "rt", "letters", "field"),
    [
        ("Nowhere", "1", "kep", "dusun"),
        ("Krajan", "", "kep", "rt"),
        ("Krajan", "1234", "kep", "rt"),
        ("Krajan", "1", "ke", "letters"),
        ("Krajan", "1", "  k e ", "letters"),
    ],
)
def test_what_is_missing_is_named(
    listed: Kit, dusun: str, rt: str, letters: str, field: str
) -> None:
    with pytest.raises(FormError) as err:
        listed.svc.find(dusun, rt, letters)
    assert err.value.field == field


def test_too_many_matches_ask_for_more_letters(kit: Kit) -> None:
    many = [
        {"ref": f"R{i}", "name": f"Sumarni {i}", "dusun": "Krajan", "rt": "1", "programmes": []}
        for i in range(FIND_MAX + 1)
    ]
    assert kit.inbox(signed_list(kit.key, households=many))
    assert kit.svc.find("Krajan", "1", "sum") is None  # more than FIND_MAX: type more
    assert [h.ref for h in kit.svc.find("Krajan", "1", "sumarni 3") or ()] == ["R3"]


def test_a_villagers_report_is_filed_under_their_nik_with_a_spoken_note(listed: Kit) -> None:
    note = voice.check_note(ToneMicrophone(2.0).start(60).stop())
    [household] = listed.svc.find("Krajan", "1", "m12") or []
    rid = listed.svc.report(Reporter(None, NIK), ref=household.ref, reason="moved", voice=note)
    [record] = listed.outbox("recipient_report")
    assert record["record_id"] == rid and record["reporter"] == {"nik": NIK, "agent_id": None}
    assert record["voice_note"] == voice.sealed_form(note)
    assert listed.agents.audit.entries()[-1].kind == "recipient_report"
    assert listed.svc.listed("H0012").name == household.name
    with pytest.raises(InputError):
        listed.svc.listed("H9999")


def test_a_villagers_flood_is_limited_per_nik(listed: Kit) -> None:
    for _ in range(3):
        listed.svc.propose(
            Reporter(None, NIK), reasons=["disaster"], name="Warga", dusun="Krajan", rt="1"
        )
    with pytest.raises(ReportLimited):
        listed.svc.report(Reporter(None, NIK), ref="H0000", reason="moved")
    other = "3510014501580002"
    listed.svc.report(Reporter(None, other), ref="H0000", reason="moved")  # another NIK: fine
