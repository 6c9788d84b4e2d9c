"""The recipient list, reports, proposals and meeting report wired into the UI test kit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent_doubles import Agents
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ui_kit import Kit

from kiosk.reports.recipients import RecipientInbox, RecipientStore, sign_list
from kiosk.reports.service import CommunityService
from tests.fixtures.community import DUSUN, listed_households
from ui import services

REPORTER_NIK = "3510014501580001"


def recipient_households(n: int = 14) -> list[dict[str, Any]]:
    """``n`` listed households over three dusun, named so a test can find them."""
    return listed_households(n, lambda i: f"Bapak Penerima {i:02d}")


@dataclass
class Community:
    svc: CommunityService
    inbox: RecipientInbox
    key: Ed25519PrivateKey

    def publish(self, version: int = 1) -> None:
        """The portal's list arrives (signed) as the uplink would hand it over."""
        lst = self.svc.recipients()
        village = lst.village_code if lst else self._village
        body = {
            "village_code": village,
            "list_version": version,
            "issued_at": 1_780_000_000,
            "dusun": DUSUN,
            "households": recipient_households(),
        }
        assert self.inbox(sign_list(body, self.key))

    _village: str = ""


def attach_community(kit: Kit, agents: Agents, village_code: str) -> Community:
    """Build the community service over the agent service's database, plug it into the app."""
    conn = agents.svc.audit._conn
    key = Ed25519PrivateKey.generate()
    svc = kit.graph.community(agents.svc, conn, sealer=agents.sealer)
    store = RecipientStore(conn, kit.graph.cipher, kit.clock)  # the inbox's, as the uplink's
    inbox = RecipientInbox(store, trusted=lambda: [key.public_key()], village_code=village_code)
    services(kit.app).extra["community"] = svc
    c = Community(svc, inbox, key)
    c._village = village_code
    return c
