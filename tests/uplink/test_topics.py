"""The topic table is the one place a topic is spelled; its rows carry their behaviour."""

from __future__ import annotations

import re
from pathlib import Path

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
    assert {
        Name.ACK,
        Name.STATUS,
        Name.CONFIG,
        Name.ROSTER,
        Name.STATUS_REPLY,
        Name.KK_REPLY,
    } == SIGNED_REPLIES
    assert {
        Name.REFERENCES,
        Name.REFERENCES_REVOKE,
        Name.VERIFY_REPLY,
        Name.HOUSEHOLD_UPDATE,
        Name.RECIPIENTS,
    } == SIGNED_TOPICS
    assert all(TOPICS[n].direction is Direction.DOWN for n in SIGNED_REPLIES | SIGNED_TOPICS)


ROOT = Path(__file__).resolve().parents[2]

_CALLS = (
    r"(device_topic\([^()]*,|on_signed\(|publish_json\(|\.seal\(|sign_reply\(|_isolated\("
    r"|Outgoing\([^()]*,|PortalKind\(|kind ?[=!]= ?|kind=|\.enqueue\([^()]*,)"
)


def test_no_module_spells_a_topic_name() -> None:
    names = "|".join(sorted((n.value for n in Name), key=len, reverse=True))
    spelled = re.compile(_CALLS + r'\s*f?"(' + names + r')"')
    offenders = [
        f"{path.relative_to(ROOT)}:{i}"
        for folder in ("kiosk", "ui", "portal", "bench", "provisioning")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "topics.py"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if spelled.search(line)
    ]
    assert offenders == []
