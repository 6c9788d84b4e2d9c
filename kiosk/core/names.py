"""The names of the portal protocol's topics, which are also its record kinds (vocabulary only).

The rows that give each name its direction, schema, signing and ack effect are in
``kiosk.uplink.topics``; this enum lives in the core so that services may name a record kind
without importing an adapter.
"""

from __future__ import annotations

import enum


class Name(enum.StrEnum):
    """The name of every topic (the last topic segment); also the record kind of UP records."""

    REGISTRATION = "registration"
    AUDIT = "audit"
    VOUCH = "vouch"
    HOUSEHOLD = "household"
    HEARTBEAT = "heartbeat"
    AVAILABILITY = "availability"
    ACK = "ack"
    STATUS = "status"
    CONFIG = "config"
    ROSTER = "roster"
    VERIFY_REQUEST = "verify_request"
    VERIFY_REPLY = "verify_reply"
    REFERENCES = "references"
    REFERENCES_REVOKE = "references_revoke"
    HOUSEHOLD_UPDATE = "household_update"
    RECIPIENTS = "recipients"
    RECIPIENT_REPORT = "recipient_report"
    PROPOSAL = "proposal"
    STATUS_REQUEST = "status_request"
    STATUS_REPLY = "status_reply"
    OBJECTION = "objection"
    KK_REQUEST = "kk_request"
    KK_REPLY = "kk_reply"
