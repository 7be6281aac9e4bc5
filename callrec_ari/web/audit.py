"""The audit trail in the web app, for the dpo: read it a page at a time, export it, and
check its hash chain.

Reading and exporting call ``callrec_ari.audit.read`` (as ``callrec audit show`` and
``export`` do), which records each reading in the trail itself; the chain check calls
``verify_chain`` and is recorded here as ``audit.verify``, in the same transaction.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import datetime
from typing import IO, Any

from aiohttp import web

from callrec_ari.access import may_read_audit
from callrec_ari.audit import trail
from callrec_ari.audit.read import FORMATS, EntryView, ExportFormat, export_entries, read_entries
from callrec_ari.audit.verify import Verdict, verify_chain
from callrec_ari.dates import parse_optional
from callrec_ari.db.session import DbSession
from callrec_ari.errors import InputError
from callrec_ari.staff.accounts import Account
from callrec_ari.web.keys import SETTINGS
from callrec_ari.web.request import allowed, client_of, field_id, fields, page
from callrec_ari.web.rights import now_of, run

routes = web.RouteTableDef()

_FILTERS = ("since", "until", "actor", "action")
_CONTENT_TYPES: dict[ExportFormat, str] = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def _reader(request: web.Request) -> Account:
    return allowed(request, may_read_audit)


def _moment(given: dict[str, str], key: str) -> datetime | None:
    """A date or time typed in a filter; a bare ``until`` date includes that day, as on the
    calls page and the command line."""
    return parse_optional(given.get(key), field=key, end_of_day=key == "until")


def _before(text: str | None) -> int | None:
    return field_id(text, what="Page marker")


async def _read(request: web.Request) -> tuple[list[EntryView], int]:
    account = _reader(request)
    given = dict(request.query)
    limit = request.app[SETTINGS].web.page_size

    def text(key: str) -> str | None:
        return given.get(key, "").strip() or None

    entries = await run(
        request,
        lambda db: read_entries(
            db,
            actor=account.actor,
            now=now_of(request),
            since=_moment(given, "since"),
            until=_moment(given, "until"),
            who=text("actor"),
            action=text("action"),
            before_seq=_before(given.get("before")),
            limit=limit,
            client=client_of(request),
        ),
    )
    return entries, limit


def _next_before(entries: list[EntryView], limit: int) -> int | None:
    """Where the next, older page starts; None on the last page."""
    return entries[-1].seq if len(entries) == limit else None


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.StreamResponse:
    """One page of the trail, newest first, with filters and the export form."""
    entries, limit = await _read(request)
    query = {key: request.query[key] for key in _FILTERS if request.query.get(key)}
    return await page(
        request,
        "audit.html",
        {
            "entries": entries,
            "query": query,
            "next_before": _next_before(entries, limit),
            "formats": FORMATS,
        },
    )


@routes.get("/api/audit")
async def audit_api(request: web.Request) -> web.StreamResponse:
    """One page of the trail as JSON; ``next_before`` gives the next page."""
    entries, limit = await _read(request)
    return web.json_response(
        {
            "entries": [entry.to_json() for entry in entries],
            "next_before": _next_before(entries, limit),
        }
    )


def _format(text: str) -> ExportFormat:
    for known in FORMATS:
        if text == known:
            return known
    raise InputError(f"Export format {text[:20]!r} is unknown (use {' or '.join(FORMATS)}).")


@routes.post("/audit/export")
@routes.post("/api/audit/export")
async def export(request: web.Request) -> web.StreamResponse:
    """The trail between two times as a JSON Lines or CSV download, hashes included."""
    account = _reader(request)
    given = await fields(request)
    now = now_of(request)
    fmt: ExportFormat = "jsonl"
    # An anonymous temporary file: gone from the disk as soon as it is closed, whatever happens.
    handle: IO[bytes] = await asyncio.to_thread(tempfile.TemporaryFile)
    out = io.TextIOWrapper(handle, encoding="utf-8", newline="")

    async def work(db: DbSession) -> int:
        nonlocal fmt
        fmt = _format(given.get("format", "jsonl").strip() or "jsonl")
        # The service writes to ``out`` from the event loop; the writes are buffered and land
        # in the page cache, and the whole trail never sits in memory.
        return await export_entries(
            db,
            actor=account.actor,
            now=now,
            out=out,
            fmt=fmt,
            since=_moment(given, "since"),
            until=_moment(given, "until"),
            client=client_of(request),
        )

    try:
        await run(request, work)
        out.flush()
        out.detach()  # the file stays open for the download
        await asyncio.to_thread(handle.seek, 0)
    except BaseException:
        out.close()
        raise
    # aiohttp streams an open file from a worker thread and closes it at the end.
    return web.Response(
        body=handle,
        headers={
            "Content-Type": _CONTENT_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="audit-{now:%Y%m%dT%H%M%SZ}.{fmt}"',
        },
    )


async def _verify(request: web.Request) -> Verdict:
    account = _reader(request)

    async def work(db: DbSession) -> Verdict:
        verdict = await verify_chain(db)
        await trail.append(
            db,
            at=now_of(request),
            actor=account.actor.name,
            action="audit.verify",
            detail={
                "entries": verdict.entries,
                "intact": verdict.intact,
                "problems": len(verdict.problems) + verdict.more_problems,
                "head_seq": verdict.head_seq,
            },
            client=client_of(request),
        )
        return verdict

    return await run(request, work)


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """A chain check's outcome, JSON-ready."""
    return {
        "intact": verdict.intact,
        "entries": verdict.entries,
        "head_seq": verdict.head_seq,
        "head_hash": verdict.head_hash,
        "problems": [
            {"seq": problem.seq, "kind": str(problem.kind), "text": problem.text}
            for problem in verdict.problems
        ],
        "more_problems": verdict.more_problems,
    }


@routes.get("/audit/verify")
async def verify_page(request: web.Request) -> web.StreamResponse:
    """Every hash of the trail recomputed; the head hash to write down outside the system."""
    verdict = await _verify(request)
    return await page(request, "audit_verify.html", {"verdict": verdict})


@routes.get("/api/audit/verify")
async def verify_api(request: web.Request) -> web.StreamResponse:
    """The chain check as JSON."""
    return web.json_response(verdict_json(await _verify(request)))
