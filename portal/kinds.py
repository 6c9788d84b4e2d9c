"""The portal's kind table: for every kiosk->portal topic, how the portal opens, stores and
answers it. The one place a new kind is added on the portal side (one row here; its topic row
in kiosk/uplink/topics.py); :mod:`portal.intake` derives everything else from the row.

Adding a kind:

* a sealed outbox record the portal keeps (an objection, a report, a proposal):
  ``_record(Name.OBJECTION, doc)`` - it is opened (device signature, decryption), stored once
  per (device id, record id) in the ``record`` table with its ``kind``, and acknowledged after
  the commit: nothing else to write;
* a record that a portal service also acts on after the commit, or a request the portal
  answers (``_request(name, service, doc)``, ``Storage.NONE``): name the service in
  ``answered_by`` and give the intake a :class:`portal.intake.KindService` under that name
  (see ``references`` in portal/receiver.py). A kind answered by a service that a portal
  process does not run is not subscribed by that process (the ingest workers leave
  ``verify_request`` to the reference service).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.uplink.topics import RECORD_KINDS, TOPICS, Direction, Name


class Storage(enum.Enum):
    """Where a kind lands in the portal database."""

    RECORD = "record"  # a row of ``record``, insert-if-absent on (device id, record id)
    HEARTBEAT = "heartbeat"  # the latest per device, upserted (one row per kiosk)
    AVAILABILITY = "availability"  # 'online'/'offline' per device, upserted
    NONE = "none"  # not stored: a request answered by its service


@dataclass(frozen=True)
class PortalKind:
    """One kiosk->portal topic as the portal handles it."""

    name: str
    sealed: bool  # a sealed envelope: device signature checked and decrypted before anything
    storage: Storage
    acked: bool  # a signed application ack after the commit (every outbox kind needs one)
    answered_by: str | None = None  # the portal service that answers / acts on it afterwards
    doc: str = ""
    content: str | None = None  # schema (kiosk/uplink/schemas) the opened record must meet


_R, _HB, _AV, _NO = Storage.RECORD, Storage.HEARTBEAT, Storage.AVAILABILITY, Storage.NONE


def _record(
    name: str, doc: str, *, answered_by: str | None = None, content: str | None = None
) -> PortalKind:
    """A sealed outbox record: stored once per (device id, record id), then acknowledged."""
    return PortalKind(
        name, sealed=True, storage=_R, acked=True, answered_by=answered_by, doc=doc, content=content
    )


def _request(name: str, answered_by: str, doc: str) -> PortalKind:
    """A sealed request its service answers: neither stored nor acknowledged."""
    return PortalKind(name, sealed=True, storage=_NO, acked=False, answered_by=answered_by, doc=doc)


KINDS: dict[str, PortalKind] = {
    k.name: k
    for k in (
        _record(
            Name.REGISTRATION,
            "stored; one captured 'pending verification' decided by references",
            answered_by="references",
        ),
        _record(Name.AUDIT, "stored"),
        _record(Name.VOUCH, "stored for review"),
        _record(Name.HOUSEHOLD, "Dasa Wisma edit"),
        _record(
            Name.RECIPIENT_REPORT,
            "a listed household reported as not eligible (reporter sealed)",
            content="recipient_report",
        ),
        _record(
            Name.PROPOSAL,
            "an unregistered household proposed for help (usulan)",
            content="proposal",
        ),
        PortalKind(Name.HEARTBEAT, sealed=False, storage=_HB, acked=False, doc="latest per kiosk"),
        PortalKind(Name.AVAILABILITY, sealed=False, storage=_AV, acked=False, doc="last will"),
        _record(
            Name.OBJECTION,
            "objection (sanggah): stored; checked and kept by the status desk",
            answered_by="status",
        ),
        _request(
            Name.STATUS_REQUEST,
            "status",
            "status query by NIK digest + receipt code: answered, not stored",
        ),
        _request(
            Name.KK_REQUEST,
            "family",
            "family card query by KK digest: answered (known or not), not stored",
        ),
        _request(Name.VERIFY_REQUEST, "references", "online verification: answered, not stored"),
    )
}
"""Every kiosk->portal topic, by name."""


def check_table() -> None:
    """The table covers exactly the UP topics, and every outbox kind is a sealed, acked record."""
    up = {t.name for t in TOPICS.values() if t.direction is Direction.UP}
    if set(KINDS) != up:
        raise ValueError(f"portal kinds {sorted(KINDS)} != kiosk->portal topics {sorted(up)}")
    for name in RECORD_KINDS:
        k = KINDS[name]
        if not (k.sealed and k.acked):
            raise ValueError(f"outbox kind {name!r} must be sealed and acknowledged")
    for k in KINDS.values():
        if k.storage is Storage.NONE and k.answered_by is None:
            raise ValueError(f"kind {k.name!r} is neither stored nor answered")


check_table()


def handled(services: frozenset[str]) -> list[PortalKind]:
    """The kinds a portal process running ``services`` takes (unanswerable requests left out)."""
    return [
        k
        for k in KINDS.values()
        if k.storage is not Storage.NONE or (k.answered_by or "") in services
    ]
