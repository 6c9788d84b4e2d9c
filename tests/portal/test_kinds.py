"""The portal's kind table: every kiosk->portal topic has one row, and the intake follows it."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.uplink.topics import RECORD_KINDS, TOPICS, Direction
from portal import kinds
from portal.ingest.worker import INGESTED
from portal.intake import filters
from portal.kinds import KINDS, PortalKind, Storage, check_table, handled


def test_every_uplink_topic_has_exactly_one_row() -> None:
    up = {t.name for t in TOPICS.values() if t.direction is Direction.UP}
    assert set(KINDS) == up
    for name in RECORD_KINDS:  # the kiosk waits for an ack of every outbox record
        assert KINDS[name].sealed and KINDS[name].acked and KINDS[name].storage is Storage.RECORD


def test_a_missing_or_unacked_row_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(KINDS)
    del table["audit"]
    monkeypatch.setattr(kinds, "KINDS", table)
    with pytest.raises(ValueError, match="kiosk->portal topics"):
        check_table()
    table["audit"] = dataclasses.replace(KINDS["audit"], acked=False)
    with pytest.raises(ValueError, match="sealed and acknowledged"):
        check_table()
    table["audit"] = KINDS["audit"]
    table["verify_request"] = PortalKind("verify_request", True, Storage.NONE, False)
    with pytest.raises(ValueError, match="neither stored nor answered"):
        check_table()


def test_a_request_is_taken_only_by_a_process_running_its_service() -> None:
    assert "verify_request" not in INGESTED  # the workers run no references service
    assert set(INGESTED) == {k for k, v in KINDS.items() if v.storage is not Storage.NONE}
    services = {k.answered_by for k in KINDS.values() if k.answered_by is not None}
    assert {k.name for k in handled(frozenset(services))} == set(KINDS)
    for service in services:  # a request stays with the one process that runs its service
        requests = {k for k, v in KINDS.items() if v.storage is Storage.NONE}
        without = {k.name for k in handled(frozenset(services - {service}))}
        assert requests - without == {k for k in requests if KINDS[k].answered_by == service}
    assert filters("p/v1", handled(frozenset()), "g")[0] == "$share/g/p/v1/kiosk/+/registration"
