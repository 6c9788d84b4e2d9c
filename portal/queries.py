"""What every portal query desk shares: a per-kiosk rate limit and answering each query.

The status desk and the family card desk both answer a kiosk's sealed request with a signed
reply on that kiosk's own topic; both refuse a kiosk that asks more than a bounded number of
times in a sliding window (a stolen or broken kiosk must not turn the portal into an oracle).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from kiosk.errors import ProtocolError
from portal.intake import Opened, Outgoing

log = logging.getLogger(__name__)


class QueryLimit:
    """At most ``limit`` queries per kiosk in any ``window_s`` seconds (monotonic clock)."""

    def __init__(
        self, limit: int, window_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit, self._window_s, self._monotonic = limit, window_s, monotonic
        self._seen: dict[str, deque[float]] = {}

    def admit(self, device_id: str) -> bool:
        """Count one query of ``device_id`` and say whether it is inside the limit."""
        now, seen = self._monotonic(), self._seen.setdefault(device_id, deque())
        while seen and now - seen[0] > self._window_s:
            seen.popleft()
        if len(seen) >= self._limit:
            return False
        seen.append(now)
        return True


def answer_each(
    items: list[Opened],
    answer: Callable[[str, dict[str, Any]], bytes],
    reply_kind: str,
    what: str,
) -> list[Outgoing]:
    """``answer`` each opened request on the asking kiosk's ``reply_kind`` topic; an invalid
    request is logged (``what`` names it) and left unanswered."""
    out: list[Outgoing] = []
    for item in items:
        inc = item.incoming
        try:
            reply = answer(inc.device_id, inc.record)
        except ProtocolError as err:
            log.warning("%s from %s rejected: %s", what, inc.device_id, err)
            continue
        out.append(Outgoing(inc.device_id, reply_kind, reply, inc.record_id.encode()))
    return out
