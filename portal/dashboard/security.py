"""Web hardening of the dashboard: strict CSP and headers, secure session cookie, CSRF token.

The dashboard's own policy (the mechanism, shared with the kiosk UI, is
:mod:`kiosk.hardening`): the dashboard runs on the portal behind HTTPS, so its cookie is
``Secure``, its host names are the portal's, not loopback only, and it serves no script.
"""

from __future__ import annotations

from flask import Flask

from kiosk.hardening import COMMON_HEADERS, WebPolicy
from kiosk.hardening import harden as _harden

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""No script at all; styles and images from the dashboard itself."""

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    **COMMON_HEADERS,
    "Strict-Transport-Security": "max-age=31536000",
}
"""Sent on every response."""

SESSION_HOURS = 8
"""A login lasts one working day."""


def harden(app: Flask, secret_key: bytes, hosts: list[str] | None, secure: bool = True) -> None:
    """Cookie flags, trusted hosts, CSRF check and headers for ``app``.

    ``secure=False`` only for a plain-HTTP trial on one machine (the cookie then travels
    unencrypted); browsers treat http://localhost as secure, so tests keep it True.
    """
    policy = WebPolicy(
        headers=HEADERS,
        cookie_name="dasbor",
        cookie_secure=secure,
        session_s=SESSION_HOURS * 3600,
        trusted_hosts=hosts,
        max_request_bytes=16 * 1024,
    )
    _harden(app, secret_key, policy)
