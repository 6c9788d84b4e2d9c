"""The topic table is the one place a topic is spelled; its rows carry their behaviour."""

from __future__ import annotations

from kiosk.uplink.topics import (
    ACK_EFFECTS,
    RECORD_KINDS,
    SIGNED_REPLIES,
    SIGNED_TOPICS,
    TOPICS,
    Direction,
    Name,
)


def test_every_name_has_one_row_and_record_kinds_are_up_topics() -> None:
    assert set(TOPICS) == set(Name)
    for kind in RECORD_KINDS:
        assert TOPICS[kind].direction is Direction.UP and TOPICS[kind].schema is None
    assert set(ACK_EFFECTS) == {Name.REGISTRATION}  # the only kind whose ack changes its owner


def test_signing_comes_from_the_rows() -> None:
    assert {Name.ACK, Name.STATUS, Name.CONFIG, Name.ROSTER} == SIGNED_REPLIES
    assert {
        Name.REFERENCES,
        Name.REFERENCES_REVOKE,
        Name.VERIFY_REPLY,
        Name.HOUSEHOLD_UPDATE,
    } == SIGNED_TOPICS
    assert all(TOPICS[n].direction is Direction.DOWN for n in SIGNED_REPLIES | SIGNED_TOPICS)
