"""The kiosk UI's web policy: strict CSP and headers, loopback hosts, plain-HTTP cookie (the
mechanism, shared with the portal dashboard, is :mod:`kiosk.hardening`)."""

from __future__ import annotations

import secrets

from flask import Flask

from kiosk.hardening import COMMON_HEADERS, CSRF_FIELD, WebPolicy, csrf_token
from kiosk.hardening import harden as _harden

__all__ = ["CSP", "CSRF_FIELD", "HEADERS", "POLICY", "TRUSTED_HOSTS", "csrf_token", "harden"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Content-Security-Policy: everything from the kiosk itself, nothing inline."""

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    **COMMON_HEADERS,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
"""Sent on every response."""

TRUSTED_HOSTS = ["127.0.0.1", "localhost"]

POLICY = WebPolicy(
    headers=HEADERS,
    cookie_name="kiosk",
    cookie_secure=False,  # plain HTTP on loopback only
    session_s=3600,
    trusted_hosts=TRUSTED_HOSTS,
    max_request_bytes=64 * 1024,
    csrf_header="X-CSRF-Token",  # the pages' scripts (activity, listening) send it so
    no_store_prefixes=("/api/", "/live/"),
)


def harden(app: Flask, secret_key: bytes | None = None) -> None:
    """Apply the kiosk's cookie flags, trusted hosts, CSRF checks and headers to ``app``."""
    _harden(app, secret_key or secrets.token_bytes(32), POLICY)
