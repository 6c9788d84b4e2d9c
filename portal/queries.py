"""Kiosk queries to the portal's desks: one per-kiosk limit, one answer path.

* :class:`QueryLimit` holds the rule: a kiosk may put at most ``per_window`` queries to each
  desk (its ``scope``: ``status``, ``family``, counted apart) in each window of ``window_s``
  seconds of wall-clock time. Windows are aligned (window n covers [n, n + 1) * window_s), so
  every process computes the same window from its own clock; a kiosk gets at most twice the
  limit across one window boundary and never more than the limit on average. A query over the
  limit is answered ``refused``, signed like any answer.
* The count lives in a :class:`Counters` backend (registry :data:`COUNTERS`, keyed like the
  ingest store): ``sqlite`` keeps it in this process's memory (the reference receiver is one
  process); ``postgres`` keeps it in the table ``query_count`` (migration 0006), one row per
  desk and kiosk taken by one atomic upsert, so N ingest workers give a kiosk the limit once,
  not N times. Both forget ended windows (:meth:`QueryLimit.admit` prunes once per window), so
  their size is bounded by the kiosks that asked in the current window.
* :class:`QueryDesk` is the one path from an opened request to its signed reply, the base of
  both desks: schema and device checked, the limit applied, the desk's :meth:`QueryDesk.find`
  asked, the reply signed for the asking kiosk; as a portal service it answers a batch on each
  kiosk's own topic.
"""

from __future__ import annotations

import abc
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import ProtocolError
from kiosk.uplink import messages
from kiosk.uplink.replies import sign_reply
from portal.intake import Opened, Outgoing

log = logging.getLogger("portal.queries")


class Counters(Protocol):
    """Where the per-kiosk query counts are kept."""

    def take(self, scope: str, device_id: str, window: int, ends_at: float, limit: int) -> bool:
        """Count one query of ``device_id`` to ``scope`` in ``window`` (ending at ``ends_at``,
        s since the epoch) unless ``limit`` (>= 1) are counted there already; True when counted.
        Atomic: callers in parallel never count more than ``limit`` in one window. A count of
        an older window starts again at one; a request from a lagging clock counts in the
        newer window already held."""
        ...

    def prune(self, now: float) -> int:
        """Forget the counts of windows that ended at or before ``now``; how many."""
        ...

    def close(self) -> None:
        """Release what the backend holds."""
        ...


class MemoryCounters:
    """The counts in this process's memory (the reference receiver's backend)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], tuple[int, float, int]] = {}  # window, ends, n
        self._lock = threading.Lock()

    def take(self, scope: str, device_id: str, window: int, ends_at: float, limit: int) -> bool:
        """Count one query unless the window is full."""
        key = (scope, device_id)
        with self._lock:
            held, held_end, n = self._counts.get(key, (window - 1, ends_at, 0))
            if window > held:
                self._counts[key] = (window, ends_at, 1)
                return True
            if n >= limit:
                return False
            self._counts[key] = (held, held_end, n + 1)
            return True

    def prune(self, now: float) -> int:
        """Drop the ended windows."""
        with self._lock:
            ended = [k for k, (_w, ends, _n) in self._counts.items() if ends <= now]
            for k in ended:
                del self._counts[k]
        return len(ended)

    def close(self) -> None:
        """Nothing to release."""


_TAKE = """
INSERT INTO query_count AS q (scope, device_id, window_no, ends_at, n)
VALUES (%(scope)s, %(device)s, %(window)s, %(ends)s, 1)
ON CONFLICT (scope, device_id) DO UPDATE
SET n = CASE WHEN EXCLUDED.window_no > q.window_no THEN 1 ELSE q.n + 1 END,
    window_no = GREATEST(q.window_no, EXCLUDED.window_no),
    ends_at = CASE WHEN EXCLUDED.window_no > q.window_no THEN EXCLUDED.ends_at ELSE q.ends_at END
WHERE EXCLUDED.window_no > q.window_no OR q.n < %(limit)s
RETURNING n
"""


class PostgresCounters:
    """The counts in ``query_count`` (migration 0006), shared by every worker on the database,
    over one :class:`portal.ingest.session.PgSession`."""

    def __init__(self, dsn: str) -> None:
        from portal.ingest.session import PgSession  # psycopg only where it is used

        self._db = PgSession(dsn)

    def take(self, scope: str, device_id: str, window: int, ends_at: float, limit: int) -> bool:
        """One upsert: the row lock of (scope, device) orders the workers' takes."""
        args = {"scope": scope, "device": device_id, "window": window, "ends": ends_at}
        return bool(self._db.rows(_TAKE, {**args, "limit": limit}))

    def prune(self, now: float) -> int:
        """One indexed delete of the ended windows."""
        return self._db.count("DELETE FROM query_count WHERE ends_at <= %(now)s", {"now": now})

    def close(self) -> None:
        """Close the session."""
        self._db.close()


def _postgres(target: str) -> Counters:
    return PostgresCounters(target)


def _memory(_target: str) -> Counters:
    return MemoryCounters()


COUNTERS: dict[str, Callable[[str], Counters]] = {"sqlite": _memory, "postgres": _postgres}
"""Store backend name (the ingest store's) -> factory taking its target (file path or DSN)."""


def open_counters(backend: str, target: str) -> Counters:
    """The query counters of the store ``backend`` at ``target``; a clear error for an unknown
    name."""
    if backend not in COUNTERS:
        choices = ", ".join(sorted(COUNTERS))
        raise ValueError(f"unknown query counter backend {backend!r}: choose one of {choices}")
    return COUNTERS[backend](target)


@dataclass
class QueryLimit:
    """At most ``per_window`` queries per kiosk and desk in each window of ``window_s`` seconds
    (0: every query is refused); one limit serves every desk of a process, each desk counted
    apart under its scope."""

    counters: Counters = field(default_factory=MemoryCounters)
    per_window: int = 60
    window_s: float = 600.0
    clock: Callable[[], float] = time.time
    _pruned: int | None = field(default=None, init=False, repr=False)
    _told: set[tuple[str, str]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.per_window < 0:
            raise ValueError("a query limit is a number of queries, 0 or more")
        if not (math.isfinite(self.window_s) and self.window_s >= 1.0):
            raise ValueError("a query window is at least one second")

    def admit(self, scope: str, device_id: str) -> bool:
        """True when this query of ``device_id`` to the desk ``scope`` is within the limit (and
        counts it)."""
        now = self.clock()
        window = math.floor(now / self.window_s)
        if window != self._pruned:  # once per window and process: the counts stay bounded
            self._pruned = window
            self._told.clear()
            self.counters.prune(now)
        ends_at = (window + 1) * self.window_s
        if self.per_window and self.counters.take(
            scope, device_id, window, ends_at, self.per_window
        ):
            return True
        if (scope, device_id) not in self._told:  # a flood is one line per window, not each
            self._told.add((scope, device_id))
            log.warning(
                "%s queries from %s over the limit: refused for the next %.0f s",
                scope,
                device_id,
                ends_at - now,
            )
        return False

    def close(self) -> None:
        """Release the counters."""
        self.counters.close()


@dataclass(frozen=True)
class Query:
    """One kind of kiosk query: the desk's limit scope, its request and reply kinds, what a
    refusal holds besides ``result``, and its name in logs and errors."""

    scope: str
    request: str
    reply: str
    refused: Mapping[str, Any]
    what: str


class QueryDesk(abc.ABC):
    """A desk answering one kind of query (:attr:`QUERY`): checked, limited per kiosk by
    ``limit`` (default: this process's count), found by the desk's :meth:`find`, signed for the
    asking kiosk."""

    QUERY: ClassVar[Query]

    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        limit: QueryLimit | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = signing_key
        self.limit = limit or QueryLimit(clock=clock)
        self._clock = clock

    @abc.abstractmethod
    def find(self, request: dict[str, Any]) -> dict[str, Any]:
        """The reply's ``result`` and findings for a checked request within the limit."""

    def answer(self, device_id: str, request: dict[str, Any]) -> bytes:
        """The signed reply to an opened request (ProtocolError for an invalid one: nothing is
        answered, nothing counted)."""
        q = self.QUERY
        messages.check(q.request, request)
        if request["device_id"] != device_id:
            raise ProtocolError(f"{q.what} names another device")
        body: dict[str, Any] = {"v": 1, "request_id": request["request_id"], "at": self._clock()}
        if self.limit.admit(q.scope, device_id):
            body.update(self.find(request))
        else:
            body.update(q.refused, result="refused")
        return sign_reply(q.reply, device_id, body, self._key)

    def answer_each(self, kind: str, items: list[Opened]) -> list[Outgoing]:
        """The portal service: answer each request on the asking kiosk's own topic (an
        invalid one is logged and left unanswered)."""
        out: list[Outgoing] = []
        for item in items:
            inc = item.incoming
            try:
                reply = self.answer(inc.device_id, inc.record)
            except ProtocolError as err:
                log.warning("%s from %s rejected: %s", self.QUERY.what, inc.device_id, err)
                continue
            out.append(Outgoing(inc.device_id, self.QUERY.reply, reply, inc.record_id.encode()))
        return out
