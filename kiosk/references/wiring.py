"""Connect the reference parts to the uplink's signed topics (used by the composition root)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from kiosk.references.inbox import ReferenceInbox
from kiosk.references.online import OnlineVerifier
from kiosk.uplink.topics import Name

log = logging.getLogger(__name__)


class SignedTopics(Protocol):
    """What is needed from :class:`kiosk.uplink.service.Uplink`."""

    def on_signed(self, name: str, callback: Callable[[bytes, bytes | None], object]) -> None:
        """Register a handler for a portal-signed topic."""
        ...


def attach_to_uplink(
    uplink: SignedTopics, inbox: ReferenceInbox | None, online: OnlineVerifier | None = None
) -> None:
    """Route ``references`` / ``references_revoke`` to ``inbox`` and ``verify_reply`` to
    ``online`` (all on the uplink's relay thread)."""
    if inbox is not None:
        uplink.on_signed(Name.REFERENCES, lambda payload, _corr: inbox.on_reference_set(payload))
        uplink.on_signed(Name.REFERENCES_REVOKE, lambda payload, _corr: inbox.on_revoke(payload))
    if online is not None:
        uplink.on_signed(Name.VERIFY_REPLY, online.deliver)
