"""Data-subject requests and the do-not-record list in the web app, for the dpo.

Each action is one handler for its form and its JSON twin under ``/api/``, calling the
service functions ``callrec requests`` and ``callrec dnr`` call, as the signed-in account;
the service checks the role again and writes ``dsr_actions`` and the audit trail in the
same transaction. Its errors propagate to ``web/errors.py``. The helpers at the top
(``dpo``, ``run``, ``optional_id``) are shared with ``subjects.py`` and ``audit.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from callrec_ari.access import may_handle_requests
from callrec_ari.dates import parse_optional
from callrec_ari.db.session import DbSession
from callrec_ari.errors import InputError
from callrec_ari.ids import parse_id
from callrec_ari.rights import donotrecord, requests
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.donotrecord import Entry
from callrec_ari.rights.requests import RequestKind, RequestView
from callrec_ari.staff.accounts import Account
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, done, field_id, fields, page, path_id

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


async def run(request: web.Request, work: Callable[[DbSession], Awaitable[T]]) -> T:
    """``work`` in one transaction, committed if it returns, rolled back if it raises (the
    error then becomes the answer: ``web/errors.py``)."""
    async with request.app[SESSIONS]() as db, db.begin():
        return await work(db)


def optional_id(text: str | None) -> int | None:
    """The request an action answers, from an optional form field; ``InputError`` if typed
    but not a request number."""
    return field_id(text, what="Request number")


def is_yes(text: str | None) -> bool:
    """A checkbox or a JSON boolean given as text."""
    return (text or "").strip().lower() in _YES


def _request_id(request: web.Request) -> int:
    return path_id(request, "request_id", what="Request")


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


@routes.post("/requests")
@routes.post("/api/requests")
async def open_request(request: web.Request) -> web.StreamResponse:
    """Record a request received; its page follows."""
    account = dpo(request)
    given = await fields(request)
    settings = request.app[SETTINGS]

    async def work(db: DbSession) -> RequestView:
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

    view = await run(request, work)
    return done(request, to=f"/requests/{view.id}", body=view.to_json(), status=201)


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


@routes.post("/requests/{request_id}/extend")
@routes.post("/api/requests/{request_id}/extend")
async def extend(request: web.Request) -> web.StreamResponse:
    """Extend the deadline once, for a stated reason."""
    account = dpo(request)
    request_id = _request_id(request)
    given = await fields(request)
    view = await run(
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
    return done(request, to=f"/requests/{view.id}", body=view.to_json())


@routes.post("/requests/{request_id}/close")
@routes.post("/api/requests/{request_id}/close")
async def close(request: web.Request) -> web.StreamResponse:
    """Close a request as done, or as rejected with the reasons."""
    account = dpo(request)
    request_id = _request_id(request)
    given = await fields(request)
    outcome = given.get("outcome", "").strip()
    if outcome not in {"done", "rejected"}:
        raise InputError("The outcome must be done or rejected.")
    view = await run(
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
    return done(request, to=f"/requests/{view.id}", body=view.to_json())


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
    number = parse_id(request.query.get("request"))
    return "" if number is None else str(number)


@routes.get("/api/do-not-record")
async def do_not_record_api(request: web.Request) -> web.StreamResponse:
    """The do-not-record list as JSON."""
    return web.json_response({"entries": [entry_json(e) for e in await _entries(request)]})


@routes.post("/do-not-record")
@routes.post("/api/do-not-record")
async def add(request: web.Request) -> web.StreamResponse:
    """Never record this number again."""
    account = dpo(request)
    given = await fields(request)
    entry = await run(
        request,
        lambda db: donotrecord.add(
            db,
            given.get("number", ""),
            reason=given.get("reason", ""),
            actor=account.actor,
            now=now_of(request),
            region=request.app[SETTINGS].numbers_region,
            request_id=optional_id(given.get("request")),
        ),
    )
    return done(request, to="/do-not-record", body=entry_json(entry), status=201)


@routes.post("/do-not-record/remove")
@routes.post("/api/do-not-record/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    """Take a number off the list (its calls may be recorded again, with consent)."""
    account = dpo(request)
    given = await fields(request)
    entry = await run(
        request,
        lambda db: donotrecord.remove(
            db,
            given.get("number", ""),
            actor=account.actor,
            now=now_of(request),
            region=request.app[SETTINGS].numbers_region,
            reason=given.get("reason", ""),
            request_id=optional_id(given.get("request")),
        ),
    )
    return done(request, to="/do-not-record", body=entry_json(entry))
