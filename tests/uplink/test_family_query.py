"""PortalFamilyQuery without a broker: the sealed record carries the KK digest only, the wait
ends after 3 s of the injected clock, and a reply for another request or a refusal is no
answer (over the real broker: test_family_query_e2e.py)."""

from __future__ import annotations

import json

from test_pending import Link, Waits

from kiosk.core.clock import FakeClock
from kiosk.core.family_card import FamilyAnswer, PortalFamily, kk_digest
from kiosk.crypto.fake import JsonSealer
from kiosk.uplink.family_query import PortalFamilyQuery
from kiosk.uplink.inbound import Reply

KK = "3510011501200003"
REG = "0193a0a0-0000-7000-8000-00000000000a"


def rig() -> tuple[PortalFamilyQuery, Link, Waits, JsonSealer]:
    clock, link, sealer = FakeClock(), Link(), JsonSealer()
    waits = Waits(clock)
    q = PortalFamilyQuery(link, sealer, device_id="kiosk-demo-01", clock=clock, wait=waits)
    return q, link, waits, sealer


def known(request_id: str, **over: object) -> dict[str, object]:
    reg = {"registration_id": REG, "version": 2, "registered_at": 1.0e9, "members_count": 4}
    return {"kind": "kk_reply", "request_id": request_id, "result": "known", "registration": reg}


def test_asks_by_digest_and_gets_the_known_registration() -> None:
    q, link, waits, sealer = rig()
    waits.actions = [lambda: q.deliver(Reply(known(link.published[0][1]), None))]
    answer = q.ask(kk_digest(KK))
    assert answer == FamilyAnswer(PortalFamily(REG, 2, 1.0e9, 4))
    assert KK not in json.dumps(sealer.sealed) and sealer.sealed[0]["kk_digest"] == kk_digest(KK)
    assert len(q.requests) == 0


def test_no_answer_within_three_seconds_is_no_answer() -> None:
    q, _link, waits, _sealer = rig()
    assert q.ask(kk_digest(KK)) is None
    assert sum(min(s, waits.step) for s in waits.asked) == 3.0, "3 s of the injected clock"


def test_another_requests_reply_or_a_refusal_is_no_answer() -> None:
    q, link, waits, _sealer = rig()
    waits.actions = [lambda: q.deliver(Reply(known(link.published[-1][1]), b"other-id"))]
    assert q.ask(kk_digest(KK)) is None and q.rejected == {"correlation": 1}
    refused = {"kind": "kk_reply", "result": "refused", "registration": None}
    waits.actions = [
        lambda: q.deliver(Reply({**refused, "request_id": link.published[-1][1]}, None))
    ]
    assert q.ask(kk_digest(KK)) is None
    link.online = False
    assert q.ask(kk_digest(KK)) is None and len(link.published) == 2, "offline: nothing sent"
