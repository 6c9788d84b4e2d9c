"""PortalLink.puback over a real mosquitto: what a sender that must know (the status push)
learns of one publish: accepted, refused by the broker or heard by nobody (MQTT 5 reason codes),
or no PUBACK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.link import PortalLink, TlsFiles
from tests.fixtures.mqtt import PREFIX, Broker, Pki, wait_for

pytestmark = pytest.mark.broker


@pytest.fixture
def link(broker: Broker, pki: Pki) -> Iterator[PortalLink]:
    lk = PortalLink(
        host="127.0.0.1",
        port=broker.port,
        client_id="portal-link-test",
        filters=[f"{PREFIX}/kiosk/+/heartbeat"],
        tls=TlsFiles(pki.ca.ca_file, pki.portal.cert, pki.portal.key),
    )
    lk.start(lambda _batch: None)
    wait_for(lk.connected.is_set, 10, "link connected")
    yield lk
    lk.stop()


def test_puback_tells_accepted_refused_unheard_and_none(link: PortalLink, broker: Broker) -> None:
    heard = f"{PREFIX}/kiosk/kiosk-a-01/heartbeat"  # the link's own subscription hears it
    sent = link.publish(heard, b"{}")
    assert sent is not None and link.puback(sent, 10.0) is True
    # nobody subscribed (a kiosk with no session): MQTT 5 PUBACK 0x10, nobody got it
    unheard = link.publish(f"{PREFIX}/kiosk/kiosk-a-01/status", b"{}")
    assert unheard is not None and link.puback(unheard, 10.0) is False
    # outside the portal's ACL: PUBACK "Not authorized" (0x87)
    refused = link.publish("elsewhere/status", b"{}")
    assert refused is not None and link.puback(refused, 10.0) is False
    again = link.publish(heard, b"{}")  # and the next is accepted
    assert again is not None and link.puback(again, 10.0) is True
    broker.kill()
    wait_for(lambda: not link.connected.is_set(), 10, "link lost")
    lost = link.publish(heard, b"{}")
    assert lost is not None and link.puback(lost, 0.5) in (None, False)  # never True
