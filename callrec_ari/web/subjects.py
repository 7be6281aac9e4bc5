"""Everything kept about one phone number, and what the dpo does with it: export the access
package (only to answer an open access or portability request of that number; the caller's
own leg unless the agent's consent is stated), erase (listing the copies that left earlier),
restrict or lift, correct a call's field.

Pages and their JSON twins call the same service functions as ``callrec find``, ``export``,
``erase``, ``restrict``, ``unrestrict``, ``rectify`` and ``history``, as the signed-in dpo;
the service writes ``dsr_actions`` and the audit trail in the same transaction. An action
may name the request it answers (the optional ``request`` field).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp_session import get_session

from callrec_ari.audit import trail
from callrec_ari.copies.register import AgentConsent, CopyView
from callrec_ari.db.session import DbSession
from callrec_ari.errors import InputError
from callrec_ari.ids import parse_id
from callrec_ari.log import mask_number
from callrec_ari.rights import erasure, export, lookup, rectify, restrict
from callrec_ari.rights.erasure import Erasure
from callrec_ari.rights.lookup import Findings
from callrec_ari.rights.rectify import Change, Field, History
from callrec_ari.rights.restrict import Restriction
from callrec_ari.web.keys import OFFSITE, SETTINGS
from callrec_ari.web.request import client_of, done, fields, is_api, page
from callrec_ari.web.rights import dpo, is_yes, now_of, optional_id, run

routes = web.RouteTableDef()

_OUTCOME = "erasure_outcome"  # the last erasure's counts, shown once on the subject page
_COPIES_SHOWN = 8  # copies outside named on the page after an erasure; the record has all


def _region(request: web.Request) -> str:
    return request.app[SETTINGS].numbers_region


def change_json(change: Change) -> dict[str, Any]:
    """One correction, JSON-ready."""
    return {**vars(change), "changed_at": change.changed_at.isoformat()}


def history_json(history: History) -> dict[str, Any]:
    """A call's corrections with the original values, JSON-ready."""
    return {
        "uniqueid": history.uniqueid,
        "originals": history.originals,
        "changes": [change_json(change) for change in history.changes],
    }


def erasure_json(result: Erasure) -> dict[str, Any]:
    """What an erasure did, JSON-ready."""
    return {
        "number": result.number,
        "erased": list(result.erased),
        "files_deleted": result.files_deleted,
        "files_missing": result.files_missing,
        "pending": [
            {"uniqueid": p.uniqueid, "why": p.why, "cases": list(p.cases)} for p in result.pending
        ],
        "do_not_record": result.do_not_record,
        "copies_outside": [copy.to_json() for copy in result.copies],
    }


def _copy_note(copy: CopyView) -> str:
    under = f"release {copy.release_id}" if copy.release_id is not None else ""
    under = under or f"request {copy.request_id}"
    return f"{copy.made_at:%Y-%m-%d} {copy.uniqueid}: {copy.kind}, {under}, {copy.recipient[:60]}"


def _back(number: str, request_id: str | None) -> str:
    """The subject page of ``number``, keeping the request being answered."""
    query = {"number": number, **({"request": request_id} if request_id else {})}
    return f"/subjects?{urlencode(query)}"


async def _findings(request: web.Request) -> tuple[Findings, dict[str, History]]:
    account = dpo(request)
    number = request.query.get("number", "")
    cursor = request.query.get("cursor") or None
    page_size = request.app[SETTINGS].web.page_size

    async def work(db: DbSession) -> tuple[Findings, dict[str, History]]:
        found = await lookup.find_everything(
            db, number, region=_region(request), now=now_of(request), limit=page_size, after=cursor
        )
        # Looking a person up is a search like any other: it goes into the trail, with
        # only the number's last digits (the trail can never be cleaned of it).
        await trail.append(
            db,
            at=now_of(request),
            actor=account.username,
            action="search.subject",
            detail={"number": mask_number(found.calls.number), "cursor": cursor is not None},
            client=client_of(request),
        )
        # Only corrected calls have a history: one query for each of those on this page.
        histories = {
            call.uniqueid: await rectify.history(db, call.uniqueid)
            for call in found.calls.calls
            if call.rectified_at is not None
        }
        return found, histories

    return await run(request, work)


@routes.get("/subjects")
async def subject_page(request: web.Request) -> web.StreamResponse:
    """The number search; with ``?number=`` its calls, requests, holds and the actions."""
    dpo(request)
    request_id = request.query.get("request", "")
    context: dict[str, Any] = {
        "found": None,
        "histories": {},
        "outcome": None,
        "number": request.query.get("number", ""),
        "request_id": "" if (number := parse_id(request_id)) is None else str(number),
        "fields": [field.value for field in Field],
    }
    if request.query.get("number", "").strip():
        found, histories = await _findings(request)
        session = await get_session(request)
        outcome = session.pop(_OUTCOME, None)
        shown = (
            outcome if isinstance(outcome, dict) and outcome.get("number") == found.number else None
        )
        context.update(found=found, histories=histories, outcome=shown)
    return await page(request, "subject.html", context)


@routes.get("/api/subjects")
async def subject_api(request: web.Request) -> web.StreamResponse:
    """Everything about ``?number=`` as JSON (one page of calls; ``?cursor=`` for the next),
    with the corrected calls' histories."""
    found, histories = await _findings(request)
    return web.json_response(
        {
            **found.to_json(),
            "histories": {uniqueid: history_json(h) for uniqueid, h in histories.items()},
        }
    )


@routes.get("/api/subjects/calls/{uniqueid}/history")
async def history_api(request: web.Request) -> web.StreamResponse:
    """One call's corrections, originals first."""
    dpo(request)  # the service's history has no role check of its own: this is it
    uniqueid = request.match_info["uniqueid"]
    return web.json_response(
        history_json(await run(request, lambda db: rectify.history(db, uniqueid)))
    )


# --- export -----------------------------------------------------------------------------


@routes.post("/subjects/export")
@routes.post("/api/subjects/export")
async def export_package(request: web.Request) -> web.StreamResponse:
    """The access package (Art. 15) of a number as a zip download; the counts are in the
    ``X-Export-*`` headers."""
    account = dpo(request)
    given = await fields(request)
    settings = request.app[SETTINGS]
    now = now_of(request)
    consent = AgentConsent.stated(
        given.get("agent_consent_agent"),
        given.get("agent_consent_on"),
        given.get("agent_consent_how"),
    )
    # Never a path from the request: a fresh private folder (mode 0700) for each export.
    work_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="callrec-export-"))
    try:
        package = await run(
            request,
            lambda db: export.export_number(
                db,
                settings.recording.service_dir,
                given.get("number", ""),
                work_dir / "package",
                actor=account.actor,
                now=now,
                region=settings.numbers_region,
                request_id=optional_id(given.get("request")),
                agent_consent=consent,
                delivery=f"web download by {account.actor.name}",
                keys=settings.encryption.master_keys,
                offsite=request.app.get(OFFSITE),
            ),
        )
        name = f"access-{package.number.removeprefix('+')}-{now:%Y%m%d}"
        archive = await asyncio.to_thread(
            shutil.make_archive, str(work_dir / name), "zip", root_dir=package.folder
        )
        handle = await asyncio.to_thread(Path(archive).open, "rb")
    finally:
        # The open handle still reads the zip once its name is gone: no copy of the
        # recordings stays on disk, whether the download completes or not.
        await asyncio.to_thread(shutil.rmtree, work_dir, ignore_errors=True)
    # aiohttp streams an open file from a worker thread and closes it at the end.
    return web.Response(
        body=handle,
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{name}.zip"',
            "X-Export-Calls": str(package.calls),
            "X-Export-Withheld": str(package.withheld),
            "X-Export-Problems": str(len(package.problems)),
            "X-Export-Without-Consent": str(len(package.without_consent)),
        },
    )


# --- erasure ----------------------------------------------------------------------------


@routes.post("/subjects/erase")
@routes.post("/api/subjects/erase")
async def erase(request: web.Request) -> web.StreamResponse:
    """Erase a number's calls (held ones when their hold ends); on the page, the counts
    show once."""
    account = dpo(request)
    given = await fields(request)
    result = await run(
        request,
        lambda db: erasure.erase_number(
            db,
            request.app[SETTINGS].recording.service_dir,
            given.get("number", ""),
            actor=account.actor,
            now=now_of(request),
            region=_region(request),
            request_id=optional_id(given.get("request")),
            do_not_record=is_yes(given.get("do_not_record")),
            reason=given.get("reason"),
            offsite=request.app.get(OFFSITE),
        ),
    )
    if not is_api(request):
        session = await get_session(request)
        # Counts only: the cookie holding the session is small, and erased calls are gone.
        session[_OUTCOME] = {
            "number": result.number,
            "erased": len(result.erased),
            "files_deleted": result.files_deleted,
            "files_missing": result.files_missing,
            "pending": len(result.pending),
            "do_not_record": result.do_not_record,
            # The first few, short, so the cookie stays small; the request's record has all.
            "copies": len(result.copies),
            "copies_shown": [_copy_note(copy) for copy in result.copies[:_COPIES_SHOWN]],
        }
    return done(request, to=_back(result.number, given.get("request")), body=erasure_json(result))


# --- restriction ------------------------------------------------------------------------


async def _restrict(request: web.Request, *, lift: bool) -> web.StreamResponse:
    account = dpo(request)
    given = await fields(request)
    uniqueid = given.get("uniqueid", "").strip()

    async def work(db: DbSession) -> Restriction:
        common: dict[str, Any] = {
            "reason": given.get("reason", ""),
            "actor": account.actor,
            "now": now_of(request),
            "request_id": optional_id(given.get("request")),
        }
        if uniqueid:
            by_call = restrict.lift_call if lift else restrict.restrict_call
            return await by_call(db, uniqueid, **common)
        by_number = restrict.lift_number if lift else restrict.restrict_number
        return await by_number(db, given.get("number", ""), region=_region(request), **common)

    result = await run(request, work)
    return done(
        request,
        to=_back(given.get("number", ""), given.get("request")),
        body={"changed": list(result.changed), "unchanged": list(result.unchanged)},
    )


@routes.post("/subjects/restrict")
@routes.post("/api/subjects/restrict")
async def restrict_calls(request: web.Request) -> web.StreamResponse:
    """Restrict one call, or every call of the number (the API answers which calls changed
    and which already were)."""
    return await _restrict(request, lift=False)


@routes.post("/subjects/lift")
@routes.post("/api/subjects/lift")
async def lift(request: web.Request) -> web.StreamResponse:
    """Lift the restriction of one call, or of every call of the number."""
    return await _restrict(request, lift=True)


# --- rectification ----------------------------------------------------------------------


@routes.post("/subjects/rectify")
@routes.post("/api/subjects/rectify")
async def correct(request: web.Request) -> web.StreamResponse:
    """Correct one field of a call; its history shows on the subject page."""
    account = dpo(request)
    given = await fields(request)

    async def work(db: DbSession) -> Change:
        uniqueid = given.get("uniqueid", "").strip()
        if not uniqueid:
            raise InputError("Choose the call to correct.")
        return await rectify.rectify(
            db,
            uniqueid,
            field=given.get("field", ""),
            value=given.get("value", ""),
            reason=given.get("reason", ""),
            actor=account.actor,
            now=now_of(request),
            region=_region(request),
            request_id=optional_id(given.get("request")),
        )

    change = await run(request, work)
    return done(
        request,
        to=_back(given.get("number", ""), given.get("request")),
        body=change_json(change),
    )
