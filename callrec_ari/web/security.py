"""What every response and every state-changing request must satisfy: headers and CSRF.

No answer says which server software and version it comes from (no ``Server`` header).

The pages carry no inline script or style, so the content security policy allows only our
own files. Every POST, PUT, PATCH and DELETE must carry the session's CSRF token (a form
field, or the ``X-CSRF-Token`` header for the JSON API) and, when the browser says where it
comes from, come from our own origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import Session, get_session

from callrec_ari.errors import CsrfError

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_KEY = "csrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def security_headers(*, tls: bool) -> Middleware:
    """Middleware adding strict headers to every answer, errors included."""

    def apply(response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our
        # own form posts, and the CSRF origin check could no longer tell them apart.
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        # Pages show callers' data: nothing may be kept by the browser or a proxy.
        headers.setdefault("Cache-Control", "no-store")
        if tls:
            headers["Strict-Transport-Security"] = "max-age=31536000"

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            apply(exc)
            raise
        if not response.prepared:
            apply(response)
        return response

    return middleware


def harden(app: web.Application) -> None:
    """Send no ``Server`` header from ``app`` (pages, API, errors and static files alike)."""
    app.on_response_prepare.append(drop_server_header)


async def drop_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """An ``on_response_prepare`` signal: remove ``Server``. aiohttp adds it (naming its
    and Python's versions, which only helps an attacker pick exploits) just before this
    signal runs, so the signal is the one place left to take it out."""
    response.headers.popall("Server", None)


def csrf_token(session: Session) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


@web.middleware
async def csrf_protection(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a state-changing request without the session's token or from another origin
    (``CsrfError``: 403 ``csrf_refused``)."""
    if request.method in _SAFE_METHODS:
        return await handler(request)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise CsrfError("The request came from another site and was refused.")
    session = await get_session(request)
    expected = session.get(_CSRF_KEY)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        form = await request.post()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    if (
        not isinstance(expected, str)
        or given is None
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise CsrfError(
            "The form had expired or was not ours (CSRF check); reload the page and retry."
        )
    return await handler(request)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
