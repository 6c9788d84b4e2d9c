"""Connect the reference handlers to the uplink's portal-signed topics (for kiosk.app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kiosk.references.inbox import ReferenceInbox
from kiosk.references.online import OnlineVerifier


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
        uplink.on_signed("references", lambda payload, _corr: inbox.on_reference_set(payload))
        uplink.on_signed("references_revoke", lambda payload, _corr: inbox.on_revoke(payload))
    if online is not None:
        uplink.on_signed("verify_reply", online.deliver)
