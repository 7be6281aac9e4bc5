"""The public privacy notice: ``/notice`` (HTML) and ``/notice.txt``, without sign-in.

The announcement names this address. It is built on every request from the live
configuration (the config file with the admin's changes), so it says what applies now; a
browser or proxy may keep it five minutes. The language is ``?lang=`` if given (an unknown
one is refused with 400 naming the languages there are), else the browser's, else the web
app's default.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from callrec_ari.errors import ProfileNotFilledInError
from callrec_ari.profile.notice import build_notice
from callrec_ari.profile.notice_text import NoticeFormat, Words, render
from callrec_ari.web.admin import current_settings
from callrec_ari.web.i18n import negotiate
from callrec_ari.web.keys import SETTINGS

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)

CACHE_SECONDS = 300  # the admin's change shows within five minutes even behind a cache
_TYPES = {NoticeFormat.HTML: "text/html", NoticeFormat.TXT: "text/plain"}


def _language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked is not None:
        return Words(asked.strip()).language  # InputError (400) for a language we lack
    default = request.app[SETTINGS].web.language
    return negotiate(request.headers.get("Accept-Language"), default)


async def _notice(request: web.Request, form: NoticeFormat) -> web.StreamResponse:
    language = _language(request)
    settings = await current_settings(request)
    try:
        text = render(build_notice(settings), language, form)
    except ProfileNotFilledInError as exc:
        log.warning("notice.not_published", reason=str(exc))
        return web.Response(
            status=503,
            text="The privacy notice is not published yet.\n",
            headers={"Retry-After": str(CACHE_SECONDS)},
        )
    response = web.Response(text=text, content_type=_TYPES[form], charset="utf-8")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return response


@routes.get("/notice")
async def notice_page(request: web.Request) -> web.StreamResponse:
    """The privacy notice as a web page, for anyone."""
    return await _notice(request, NoticeFormat.HTML)


@routes.get("/notice.txt")
async def notice_text(request: web.Request) -> web.StreamResponse:
    """The privacy notice as plain text, for anyone."""
    return await _notice(request, NoticeFormat.TXT)
