"""Data-subject requests and the do-not-record list in the web app, for the dpo.

Each page and its JSON twin under ``/api/`` call the service functions ``callrec requests``
and ``callrec dnr`` call, as the signed-in account; the service checks the role again and
writes ``dsr_actions`` and the audit trail in the same transaction. The helpers at the top
(``dpo``, ``run``, ``optional_id``) are shared with ``subjects.py`` and ``audit.py``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import may_handle_requests
from callrec_ari.dates import parse_optional
from callrec_ari.errors import CallrecError, InputError, NotFoundError, RecordingError
from callrec_ari.rights import donotrecord, requests
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.donotrecord import Entry
from callrec_ari.rights.requests import RequestKind, RequestView
from callrec_ari.staff.accounts import Account
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, failure, fields, is_api, page

routes = web.RouteTableDef()
T = TypeVar("T")
_YES = frozenset({"yes", "on", "true", "1"})


def dpo(request: web.Request) -> Account:
    """The signed-in data-protection officer; 403 for anyone else, before any input is read
    (so nobody else learns whether a request or number exists)."""
    return allowed(request, may_handle_requests)


def now_of(request: web.Request) -> datetime:
    """The web app's clock."""
    return request.app[CLOCK]()


async def run(request: web.Request, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one transaction, committed if it returns; a service error as 404/403/400."""
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            return await work(db)
    except RecordingError as exc:
        # A stored recording path outside the recordings folder: nothing was changed and
        # the row needs a person to look at it, so this is a conflict, not bad input.
        raise _conflict(request, str(exc)) from None
    except CallrecError as exc:
        raise failure(request, exc) from None


def _conflict(request: web.Request, message: str) -> web.HTTPException:
    if is_api(request):
        return web.HTTPConflict(
            text=json.dumps({"error": message}), content_type="application/json"
        )
    return web.HTTPConflict(text=message)


def optional_id(text: str | None) -> int | None:
    """The request an action answers, from an optional form field; ``InputError`` if typed
    but not a request number."""
    cleaned = (text or "").strip().removeprefix("#")
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise InputError(f"Request number {cleaned[:20]!r} is not a number.")
    return int(cleaned)


def is_yes(text: str | None) -> bool:
    """A checkbox or a JSON boolean given as text."""
    return (text or "").strip().lower() in _YES


def _request_id(request: web.Request) -> int:
    text = request.match_info["request_id"]
    if not text.isdigit():
        raise failure(request, NotFoundError(f"Request {text[:20]!r} does not exist."))
    return int(text)


def _deadlines(request: web.Request) -> Deadlines:
    return Deadlines.from_settings(request.app[SETTINGS].lifecycle)


def entry_json(entry: Entry) -> dict[str, Any]:
    """A do-not-record entry, JSON-ready."""
    return {**vars(entry), "added_at": entry.added_at.isoformat()}


# --- the request register -------------------------------------------------------------


async def _list(request: web.Request) -> tuple[list[RequestView], bool]:
    account = dpo(request)
    include_closed = is_yes(request.query.get("all"))
    views = await run(
        request,
        lambda db: requests.list_requests(
            db,
            actor=account.actor,
            now=now_of(request),
            include_closed=include_closed,
            client=client_of(request),
        ),
    )
    return views, include_closed


@routes.get("/requests")
async def requests_page(request: web.Request) -> web.StreamResponse:
    """Open requests, overdue first (closed ones too with ``?all=yes``), and the form to
    record a new one."""
    views, include_closed = await _list(request)
    return await page(
        request,
        "requests.html",
        {
            "requests": views,
            "include_closed": include_closed,
            "kinds": [kind.value for kind in RequestKind],
            "today": now_of(request).date().isoformat(),
        },
    )


@routes.get("/api/requests")
async def requests_api(request: web.Request) -> web.StreamResponse:
    """The request register as JSON."""
    views, _ = await _list(request)
    return web.json_response({"requests": [view.to_json() for view in views]})


async def _open(request: web.Request) -> RequestView:
    account = dpo(request)
    given = await fields(request)
    settings = request.app[SETTINGS]

    async def work(db: AsyncSession) -> RequestView:
        return await requests.open_request(
            db,
            kind=given.get("kind", ""),
            number=given.get("number", ""),
            requester=given.get("requester", ""),
            actor=account.actor,
            now=now_of(request),
            region=settings.numbers_region,
            deadlines=_deadlines(request),
            received=parse_optional(given.get("received"), field="received"),
        )

    return await run(request, work)


@routes.post("/requests")
async def open_form(request: web.Request) -> web.StreamResponse:
    """Record a request received; its page follows."""
    view = await _open(request)
    raise web.HTTPSeeOther(f"/requests/{view.id}")


@routes.post("/api/requests")
async def open_api(request: web.Request) -> web.StreamResponse:
    """Record a request received, as JSON."""
    return web.json_response((await _open(request)).to_json(), status=201)


async def _detail(request: web.Request) -> requests.RequestDetail:
    account = dpo(request)
    request_id = _request_id(request)
    return await run(
        request,
        lambda db: requests.show_request(
            db, request_id, actor=account.actor, now=now_of(request), client=client_of(request)
        ),
    )


@routes.get("/requests/{request_id}")
async def request_page(request: web.Request) -> web.StreamResponse:
    """One request, what was done for it, and its extend and close forms."""
    detail = await _detail(request)
    return await page(request, "request.html", {"detail": detail})


@routes.get("/api/requests/{request_id}")
async def request_api(request: web.Request) -> web.StreamResponse:
    """One request and its actions as JSON."""
    detail = await _detail(request)
    return web.json_response(
        {**detail.request.to_json(), "actions": [action.to_json() for action in detail.actions]}
    )


async def _extend(request: web.Request) -> RequestView:
    account = dpo(request)
    request_id = _request_id(request)
    given = await fields(request)
    return await run(
        request,
        lambda db: requests.extend_request(
            db,
            request_id,
            reason=given.get("reason", ""),
            actor=account.actor,
            now=now_of(request),
            deadlines=_deadlines(request),
        ),
    )


@routes.post("/requests/{request_id}/extend")
async def extend_form(request: web.Request) -> web.StreamResponse:
    """Extend the deadline once, for a stated reason."""
    view = await _extend(request)
    raise web.HTTPSeeOther(f"/requests/{view.id}")


@routes.post("/api/requests/{request_id}/extend")
async def extend_api(request: web.Request) -> web.StreamResponse:
    """Extend the deadline, as JSON."""
    return web.json_response((await _extend(request)).to_json())


async def _close(request: web.Request) -> RequestView:
    account = dpo(request)
    request_id = _request_id(request)
    given = await fields(request)
    outcome = given.get("outcome", "").strip()
    if outcome not in {"done", "rejected"}:
        raise failure(request, InputError("The outcome must be done or rejected."))
    return await run(
        request,
        lambda db: requests.close_request(
            db,
            request_id,
            note=given.get("note", ""),
            actor=account.actor,
            now=now_of(request),
            rejected=outcome == "rejected",
        ),
    )


@routes.post("/requests/{request_id}/close")
async def close_form(request: web.Request) -> web.StreamResponse:
    """Close a request as done, or as rejected with the reasons."""
    view = await _close(request)
    raise web.HTTPSeeOther(f"/requests/{view.id}")


@routes.post("/api/requests/{request_id}/close")
async def close_api(request: web.Request) -> web.StreamResponse:
    """Close a request, as JSON."""
    return web.json_response((await _close(request)).to_json())


# --- the do-not-record list -----------------------------------------------------------


async def _entries(request: web.Request) -> list[Entry]:
    account = dpo(request)
    return await run(
        request,
        lambda db: donotrecord.read_entries(
            db, actor=account.actor, now=now_of(request), client=client_of(request)
        ),
    )


@routes.get("/do-not-record")
async def do_not_record_page(request: web.Request) -> web.StreamResponse:
    """The do-not-record list, with the forms to add and remove numbers."""
    entries = await _entries(request)
    return await page(
        request, "do_not_record.html", {"entries": entries, "request_id": _prefill(request)}
    )


def _prefill(request: web.Request) -> str:
    """A request number carried in the address, to fill in the forms (digits only)."""
    text = request.query.get("request", "")
    return text if text.isdigit() else ""


@routes.get("/api/do-not-record")
async def do_not_record_api(request: web.Request) -> web.StreamResponse:
    """The do-not-record list as JSON."""
    return web.json_response({"entries": [entry_json(e) for e in await _entries(request)]})


async def _change_list(request: web.Request, *, adding: bool) -> Entry:
    account = dpo(request)
    given = await fields(request)
    region = request.app[SETTINGS].numbers_region
    if adding:
        return await run(
            request,
            lambda db: donotrecord.add(
                db,
                given.get("number", ""),
                reason=given.get("reason", ""),
                actor=account.actor,
                now=now_of(request),
                region=region,
                request_id=optional_id(given.get("request")),
            ),
        )
    return await run(
        request,
        lambda db: donotrecord.remove(
            db,
            given.get("number", ""),
            actor=account.actor,
            now=now_of(request),
            region=region,
            reason=given.get("reason", ""),
            request_id=optional_id(given.get("request")),
        ),
    )


@routes.post("/do-not-record")
async def add_form(request: web.Request) -> web.StreamResponse:
    """Never record this number again."""
    await _change_list(request, adding=True)
    raise web.HTTPSeeOther("/do-not-record")


@routes.post("/api/do-not-record")
async def add_api(request: web.Request) -> web.StreamResponse:
    """Add a number to the list, as JSON."""
    return web.json_response(entry_json(await _change_list(request, adding=True)), status=201)


@routes.post("/do-not-record/remove")
async def remove_form(request: web.Request) -> web.StreamResponse:
    """Take a number off the list (its calls may be recorded again, with consent)."""
    await _change_list(request, adding=False)
    raise web.HTTPSeeOther("/do-not-record")


@routes.post("/api/do-not-record/remove")
async def remove_api(request: web.Request) -> web.StreamResponse:
    """Take a number off the list, as JSON."""
    return web.json_response(entry_json(await _change_list(request, adding=False)))
