"""Per-request helpers: who is signed in, in which language, and rendering a page for them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from callrec_ari.access import Actor
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NotSignedInError
from callrec_ari.ids import parse_id
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


def account_of(request: web.Request) -> Account | None:
    """The signed-in account, if any (``None`` too before ``auth.staff_session`` ran)."""
    account = request.get(ACCOUNT)
    return account if isinstance(account, Account) else None


def signed_in(request: web.Request) -> Account:
    """The signed-in account; ``NotSignedInError`` otherwise (the sign-in page for a page,
    401 for the API: ``web/errors.py`` decides)."""
    account = account_of(request)
    if account is None:
        raise NotSignedInError("Sign in first.")
    return account


def allowed(request: web.Request, rule: Callable[[Actor], bool]) -> Account:
    """The signed-in account if ``rule`` allows its actor; ``ForbiddenError`` otherwise."""
    account = signed_in(request)
    if not rule(account.actor):
        raise ForbiddenError("Your roles do not allow this.")
    return account


def path_id(request: web.Request, name: str, *, what: str) -> int:
    """The id in the address's ``{name}`` part; ``NotFoundError`` (404) naming ``what``
    (e.g. ``"Release"``) unless it is a number that can name a row (``callrec_ari.ids``)."""
    text = request.match_info[name]
    number = parse_id(text)
    if number is None:
        raise NotFoundError(f"{what} {text[:20]!r} does not exist.")
    return number


def field_id(text: str | None, *, what: str) -> int | None:
    """The id typed in a form field or query parameter (``None`` if left empty);
    ``InputError`` (400) naming ``what`` (e.g. ``"Request number"``) if it cannot be one."""
    if not (text or "").strip():
        return None
    number = parse_id(text)
    if number is None:
        raise InputError(f"{what} {(text or '').strip()[:20]!r} is not a valid number.")
    return number


async def fields(request: web.Request) -> dict[str, str]:
    """A form's fields, or a JSON object's for the API (values as text); ``InputError``
    if the API's body is not a JSON object."""
    if is_api(request):
        try:
            body = await request.json()
        except ValueError:
            raise InputError("The body is not JSON.") from None
        if not isinstance(body, dict):
            raise InputError("The body must be a JSON object.")
        return {str(key): str(value) for key, value in body.items() if value is not None}
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def done(request: web.Request, *, to: str, body: Any, status: int = 200) -> web.StreamResponse:
    """The answer to an action that worked, for both twins of one handler: ``body`` as JSON
    with ``status`` for the API; for a form, a redirect to ``to`` (303, so that reloading
    the page shows it again instead of repeating the action)."""
    if is_api(request):
        return web.json_response(body, status=status)
    raise web.HTTPSeeOther(to)


async def language_of(request: web.Request) -> str:
    """The language chosen in this session, else the account's, else the browser's."""
    session = await get_session(request)
    chosen = session.get(LANGUAGE_KEY)
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    account = account_of(request)
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
            "account": account_of(request),
            "csrf": csrf_token(session),
            "path": request.path,
            **(context or {}),
        },
    )
