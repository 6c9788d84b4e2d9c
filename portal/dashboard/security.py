"""Web hardening of the dashboard: strict CSP and headers, secure session cookie, CSRF token.

Separate from the kiosk UI's (``ui/security.py``): the dashboard runs on the portal behind HTTPS,
so its cookie is ``Secure`` and its host names are the portal's, not loopback only.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""No script at all; styles and images from the dashboard itself."""

HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000",
}
"""Sent on every response."""

CSRF_FIELD = "csrf_token"
SESSION_HOURS = 8
"""A login lasts one working day."""


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session[CSRF_FIELD] = token
    return token


def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        abort(400, description="csrf")


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def harden(app: Flask, secret_key: bytes, hosts: list[str] | None, secure: bool = True) -> None:
    """Cookie flags, trusted hosts, CSRF check and headers for ``app``.

    ``secure=False`` only for a plain-HTTP trial on one machine (the cookie then travels
    unencrypted); browsers treat http://localhost as secure, so tests keep it True.
    """
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="dasbor",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
        TRUSTED_HOSTS=hosts,
        MAX_CONTENT_LENGTH=16 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
