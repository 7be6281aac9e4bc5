"""Per-request helpers: who is signed in, in which language, and rendering a page for them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from callrec_ari.access import Actor
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.staff.accounts import Account
from callrec_ari.web.i18n import LANGUAGES, negotiate
from callrec_ari.web.keys import RENDERER, SETTINGS
from callrec_ari.web.security import csrf_token

ACCOUNT: web.RequestKey[Account | None] = web.RequestKey("account")
LANGUAGE_KEY = "lang"


def client_of(request: web.Request) -> str | None:
    """The remote address, for the audit trail."""
    return request.remote


def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API (errors as JSON, no redirects)."""
    return request.path.startswith("/api/")


def signed_in(request: web.Request) -> Account:
    """The signed-in account; otherwise a redirect to the sign-in page (401 for the API)."""
    account = request[ACCOUNT]
    if account is None:
        if is_api(request):
            raise web.HTTPUnauthorized(
                text='{"error": "Sign in first."}', content_type="application/json"
            )
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
    return account


def allowed(request: web.Request, rule: Callable[[Actor], bool]) -> Account:
    """The signed-in account if ``rule`` allows its actor; 403 otherwise."""
    account = signed_in(request)
    if not rule(account.actor):
        raise forbidden(request, "Your roles do not allow this.")
    return account


def forbidden(request: web.Request, message: str) -> web.HTTPException:
    """A 403 with ``message``, as JSON for the API."""
    if is_api(request):
        return web.HTTPForbidden(text=_json_error(message), content_type="application/json")
    return web.HTTPForbidden(text=message)


def _json_error(message: str) -> str:
    return json.dumps({"error": message})


def failure(request: web.Request, exc: Exception) -> web.HTTPException:
    """The HTTP answer for an expected failure of the service layer: 404, 403 or 400 with
    the error's one sentence (as JSON for the API). Anything else is re-raised."""
    kinds: list[tuple[type[Exception], type[web.HTTPException]]] = [
        (NotFoundError, web.HTTPNotFound),
        (ForbiddenError, web.HTTPForbidden),
        (InputError, web.HTTPBadRequest),
    ]
    for kind, answer in kinds:
        if isinstance(exc, kind):
            if is_api(request):
                return answer(text=_json_error(str(exc)), content_type="application/json")
            return answer(text=str(exc))
    raise exc


async def fields(request: web.Request) -> dict[str, str]:
    """A form's fields, or a JSON object's for the API (values as text); 400 otherwise."""
    if is_api(request):
        try:
            body = await request.json()
        except ValueError:
            raise failure(request, InputError("The body is not JSON.")) from None
        if not isinstance(body, dict):
            raise failure(request, InputError("The body must be a JSON object."))
        return {str(key): str(value) for key, value in body.items() if value is not None}
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def language_of(request: web.Request) -> str:
    """The language chosen in this session, else the account's, else the browser's."""
    session = await get_session(request)
    chosen = session.get(LANGUAGE_KEY)
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    account = request[ACCOUNT]
    if account is not None and account.language in LANGUAGES:
        return account.language
    return negotiate(request.headers.get("Accept-Language"), request.app[SETTINGS].web.language)


async def page(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """Render ``template`` for the person asking, with their account, language and CSRF token."""
    session = await get_session(request)
    language = await language_of(request)
    return request.app[RENDERER].page(
        template,
        language=language,
        status=status,
        context={
            "account": request[ACCOUNT],
            "csrf": csrf_token(session),
            "path": request.path,
            **(context or {}),
        },
    )
