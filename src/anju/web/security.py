"""Web security pieces that need no database: configuration, cookies, CSRF tokens and response headers.

- Session cookie: HttpOnly, SameSite=Lax, and over HTTPS ``Secure`` with the ``__Host-`` prefix (ASVS V3.3.1–3.3.4).
  The cookie holds a random token; the database keeps only its SHA-256 (:func:`token_hash`).
- CSRF (ASVS V3.5.1): every state-changing request carries a token bound to the session by HMAC, in the
  ``X-CSRF-Token`` header (htmx and API calls) or a ``csrf_token`` form field. Before login the token is bound to a
  random pre-session cookie instead (double submit, signed). GET never changes state.
- Headers: a CSP with no inline or evaluated script (inline *styles* are allowed for ECharts tooltips), no framing,
  ``nosniff``, a strict referrer policy, ``no-store`` on pages and API answers, HSTS over HTTPS, ``Vary: HX-Request``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PRE_COOKIE",
    "SecurityHeaders",
    "WebConfig",
    "csrf_token",
    "is_https",
    "new_token",
    "session_cookie_name",
    "token_hash",
]

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PRE_COOKIE = "anju_pre"
_SESSION = "anju_session"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


@dataclass(frozen=True)
class WebConfig:
    """Tunable limits of the web app (defaults follow ASVS level 2 practice)."""

    idle_minutes: int = 30
    """A session unused this long expires (ASVS V7.3.1)."""
    absolute_hours: int = 12
    """A session expires this long after login whatever its use (ASVS V7.3.2)."""
    max_failed_logins: int = 5
    """Failed passwords in a row before the account is locked."""
    lockout_minutes: int = 15
    ip_attempts: int = 20
    """Failed logins from one address within ``ip_window_minutes`` before that address must wait (ASVS V2.4.1)."""
    ip_window_minutes: int = 15
    max_upload_mb: int = 512
    """Largest 110 export the import page accepts (ASVS V5.2.1)."""
    start_worker: bool = False
    """Start a worker process next to the web app (``anju serve`` does)."""


def new_token() -> str:
    """A random session or pre-session token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores of a session token: its SHA-256 in hex (a stolen table logs nobody in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(secret: bytes, bound_to: str) -> str:
    """The CSRF token of a session (or pre-session) token: an HMAC, so it cannot be made without the secret."""
    return hmac.new(secret, b"csrf:" + bound_to.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, bound_to: str | None, given: str | None) -> bool:
    """Whether ``given`` is the CSRF token of ``bound_to`` (constant-time)."""
    if not bound_to or not given:
        return False
    return hmac.compare_digest(csrf_token(secret, bound_to), given)


def is_https(request: Request) -> bool:
    """Whether the request came over HTTPS (behind a proxy: uvicorn ``--proxy-headers`` sets the scheme)."""
    return request.url.scheme == "https"


def session_cookie_name(https: bool) -> str:
    """``__Host-anju_session`` over HTTPS (Secure, path /, no domain), ``anju_session`` over plain HTTP."""
    return f"__Host-{_SESSION}" if https else _SESSION


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                add = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"vary", b"HX-Request, Cookie"),
                ]
                if not path.startswith("/static/") and b"cache-control" not in have:
                    add.append((b"cache-control", b"no-store"))
                if https:
                    add.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend((k, v) for k, v in add if k not in have)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
