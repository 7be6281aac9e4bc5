"""One answer for every error of the staff app: an HTML page, or JSON under ``/api/``.

Handlers let the service layer's exceptions propagate; this middleware turns them into
answers, with the status and the stable ``error_id`` the exception class carries (the table
is in ``callrec_ari.errors``)::

    {"error": "Call '1796000000.9' does not exist.", "error_id": "not_found"}

A page gets the same sentence on ``error.html``, in the reader's language, with the same
status and a link back. Someone not signed in who asks for a page is sent to the sign-in
form instead. aiohttp's own refusals (no such route, a method the route does not take, a
body too large) get the same two shapes. Anything else is a fault of ours: logged with its
traceback as ``web.unexpected_error`` and answered 500 with one generic sentence, never the
exception's text.

It sits inside the session middleware (so the session is saved with error answers too)
and inside ``security_headers`` (so they carry the same headers as every other answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from callrec_ari.errors import CallrecError, NotSignedInError
from callrec_ari.web.keys import RENDERER
from callrec_ari.web.request import is_api, language_of, page
from callrec_ari.web.security import Handler

log = structlog.get_logger(__name__)

# The sentences of the answers this module words itself; translated on the error page.
INTERNAL = "Something went wrong on our side; it was logged. Please try again later."
_AIOHTTP: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not take that kind of request."),
    413: ("too_large", "The request is too large."),
}
_OTHER_REFUSAL = ("refused", "The request was refused.")
GENERIC = frozenset({INTERNAL, _OTHER_REFUSAL[1], *(text for _, text in _AIOHTTP.values())})
TITLES = {
    400: "The request was not accepted",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    409: "Nothing was changed",
    500: "Something went wrong",
}


@dataclass(frozen=True, kw_only=True)
class Failure:
    """What the answer says: its status, its stable id and its one sentence."""

    status: int
    error_id: str
    message: str


@web.middleware
async def error_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure of ``handler`` as an error page or a JSON error; redirects pass."""
    try:
        return await handler(request)
    except NotSignedInError:
        if is_api(request):
            failure = Failure(status=401, error_id="not_signed_in", message="Sign in first.")
        else:
            raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}") from None
    except CallrecError as exc:
        failure = _expected(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # a redirect is an answer, not an error
        failure = _from_aiohttp(request, exc)
    except Exception:
        log.exception("web.unexpected_error", method=request.method, path=request.path, status=500)
        failure = Failure(status=500, error_id="internal", message=INTERNAL)
    return await answer(request, failure)


def _expected(request: web.Request, exc: CallrecError) -> Failure:
    if exc.http_status >= 500:
        # A deliberate error with no meaning for the person asking (a configuration or
        # database fault): its text may name files or servers, so it is only logged.
        log.error(
            "web.unexpected_error",
            method=request.method,
            path=request.path,
            status=500,
            error=str(exc),
            error_class=type(exc).__name__,
        )
        return Failure(status=500, error_id="internal", message=INTERNAL)
    log.info(
        "web.refused",
        method=request.method,
        path=request.path,
        status=exc.http_status,
        error_id=exc.error_id,
    )
    return Failure(status=exc.http_status, error_id=exc.error_id, message=str(exc))


def _from_aiohttp(request: web.Request, exc: web.HTTPException) -> Failure:
    if exc.status >= 500:
        log.error("web.unexpected_error", method=request.method, path=request.path, status=500)
        return Failure(status=exc.status, error_id="internal", message=INTERNAL)
    error_id, message = _AIOHTTP.get(exc.status, _OTHER_REFUSAL)
    return Failure(status=exc.status, error_id=error_id, message=message)


async def answer(request: web.Request, failure: Failure) -> web.StreamResponse:
    """``failure`` as JSON for the API, as the error page for a person."""
    if is_api(request):
        return web.json_response(
            {"error": failure.message, "error_id": failure.error_id}, status=failure.status
        )
    try:
        language = await language_of(request)
        renderer = request.app[RENDERER]
        message = failure.message
        if message in GENERIC:
            message = renderer.gettext(language, message)
        title = TITLES.get(failure.status, TITLES[400])
        return await page(
            request,
            "error.html",
            {
                "title": renderer.gettext(language, title),
                "message": message,
                "error_id": failure.error_id,
                "status": failure.status,
                "back": _back(request),
            },
            status=failure.status,
        )
    except Exception:
        # The error page itself failed (the session store, a template): plain text still
        # tells the person what happened, and the fault is in the log.
        log.exception("web.error_page_failed", path=request.path)
        return web.Response(text=failure.message, status=failure.status)


def _back(request: web.Request) -> str:
    """Where the link back leads: the page the person came from on this site, or home."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc != request.host or not referer.path.startswith("/"):
        return "/"
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    return "/" if back.startswith("//") or referer.path == request.path else back
