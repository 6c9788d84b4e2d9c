"""Web hardening shared by the kiosk UI (``ui/security.py``) and the portal dashboard
(``portal/dashboard/security.py``): a per-session CSRF token checked on every unsafe request,
security headers, cookie flags and trusted hosts. Each caller states its own policy (a
:class:`WebPolicy`); the mechanism lives here once. It sits in ``kiosk`` because the portal
already depends on it and the kiosk never depends on the portal."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, Response, abort, request, session

CSRF_FIELD = "csrf_token"
COMMON_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""The headers every page of both apps sends, besides each one's own CSP."""
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebPolicy:
    """One web app's hardening: what it sends and what it accepts."""

    headers: Mapping[str, str]  # sent on every response (CSP and friends)
    cookie_name: str
    cookie_secure: bool  # the session cookie only over HTTPS
    session_s: int  # seconds a session cookie lasts
    trusted_hosts: list[str] | None  # Host headers answered (None: any)
    max_request_bytes: int
    csrf_header: str | None = None  # a header scripts may send the token in (None: forms only)
    no_store_prefixes: tuple[str, ...] = ()  # paths never cached, besides every HTML page


def csrf_token() -> str:
    """This browser session's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session[CSRF_FIELD] = token
    return token


def harden(app: Flask, secret_key: bytes, policy: WebPolicy) -> None:
    """Apply ``policy``'s cookie flags, trusted hosts, CSRF check and headers to ``app``."""
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME=policy.cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=policy.cookie_secure,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=policy.session_s,
        TRUSTED_HOSTS=policy.trusted_hosts,
        MAX_CONTENT_LENGTH=policy.max_request_bytes,
        TEMPLATES_AUTO_RELOAD=False,
    )

    def check_csrf() -> None:
        if request.method in _SAFE:
            return
        expected = session.get(CSRF_FIELD)
        sent = request.form.get(CSRF_FIELD) or ""
        if not sent and policy.csrf_header:
            sent = request.headers.get(policy.csrf_header, "")
        if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
            abort(400, description="csrf")

    def add_headers(response: Response) -> Response:
        for name, value in policy.headers.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html" or (
            policy.no_store_prefixes and request.path.startswith(policy.no_store_prefixes)
        ):
            response.headers["Cache-Control"] = "no-store"
        return response

    app.before_request(check_csrf)
    app.after_request(add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
