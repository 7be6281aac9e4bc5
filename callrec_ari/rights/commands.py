"""``callrec find``, ``export``, ``erase``, ``requests``...: data-subject rights from the CLI.

Parsing and printing only; the work is done by the service modules beside this one, in one
database transaction per command. The operator at the server acts as the data-protection
officer, under their login name unless ``--actor`` names them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.cli import CommandLine
from callrec_ari.config import Settings
from callrec_ari.db.session import describe_error, open_sessions
from callrec_ari.errors import DatabaseError, InputError
from callrec_ari.rights import donotrecord, erasure, export, lookup, rectify, requests, restrict
from callrec_ari.rights import text as show
from callrec_ari.rights.deadlines import Deadlines, parse_received
from callrec_ari.rights.subject import CallSummary

T = TypeVar("T")
_PAGE = 200


def _utc_now() -> datetime:
    return datetime.now(UTC)


# The one clock of the rights commands; tests replace it.
clock: Callable[[], datetime] = _utc_now


class _Job:
    """What every command needs: settings, the acting person, the time, a transaction."""

    def __init__(self, cli: CommandLine, args: argparse.Namespace) -> None:
        self.args = args
        self.settings: Settings = cli.load_settings(args)
        name = getattr(args, "actor", None) or cli.default_actor
        self.actor = Actor(name=name, role=Role.DPO)
        self.now = clock()
        self.region = self.settings.numbers_region
        self.recordings = self.settings.recording.service_dir
        self.deadlines = Deadlines.from_settings(self.settings.lifecycle)

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        return asyncio.run(self._run(work))

    async def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        url = self.settings.database.url
        try:
            async with open_sessions(url) as sessions, sessions() as session, session.begin():
                return await work(session)
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"The database refused the command ({describe_error(exc)}); "
                "is it reachable and migrated (`callrec migrate`)?"
            ) from exc


def _out(lines: Iterable[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _handler(cli: CommandLine, body: Callable[[_Job], int]) -> Callable[[argparse.Namespace], int]:
    return lambda args: body(_Job(cli, args))


def _request_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--request", type=int, metavar="ID", help="the request this answers")


def _actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actor", metavar="NAME", help="who acts (default: your login name)")


def _config(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a -c given before the sub-command: a default here would overwrite it.
    parser.add_argument(
        "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the TOML config file"
    )


def add_commands(cli: CommandLine) -> None:
    """Add the data-subject rights commands to the ``callrec`` command line."""
    find = cli.add("find", _handler(cli, _find), "Everything kept about a phone number.")
    find.add_argument("number")
    find.add_argument("--json", action="store_true", help="one JSON document")
    find.add_argument("--limit", type=int, help="at most this many calls")

    out = cli.add("export", _handler(cli, _export), "Export a number's recordings (Art. 15).")
    out.add_argument("number")
    out.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder")
    _request_id(out)
    _actor(out)

    erase = cli.add("erase", _handler(cli, _erase), "Erase a number's calls (Art. 17, 7(3)).")
    erase.add_argument("number")
    erase.add_argument("--do-not-record", action="store_true", help="never record it again")
    erase.add_argument("--reason", help="why (kept in the request's record)")
    _request_id(erase)
    _actor(erase)

    fix = cli.add("rectify", _handler(cli, _rectify), "Correct a call's metadata (Art. 16).")
    fix.add_argument("uniqueid")
    fix.add_argument("--field", required=True, help=", ".join(rectify.Field))
    fix.add_argument("--value", required=True)
    fix.add_argument("--reason", required=True)
    _request_id(fix)
    _actor(fix)

    past = cli.add("history", _handler(cli, _history), "A call's corrections, originals first.")
    past.add_argument("uniqueid")

    for name, text in (
        ("restrict", "Restrict a call or a number's calls (Art. 18, 21)."),
        ("unrestrict", "Lift the restriction of a call or a number's calls."),
    ):
        parser = cli.add(name, _handler(cli, _restrict), text)
        parser.add_argument("uniqueid", nargs="?")
        parser.add_argument("--number", help="all calls from this number")
        parser.add_argument("--reason", required=True)
        parser.set_defaults(lift=name == "unrestrict")
        _request_id(parser)
        _actor(parser)

    _add_do_not_record(cli)
    _add_requests(cli)


def _add_do_not_record(cli: CommandLine) -> None:
    dnr = cli.add("dnr", _handler(cli, _dnr_list), "The do-not-record list.")
    sub = dnr.add_subparsers(dest="dnr_action", metavar="ACTION")
    add = sub.add_parser("add", help="never record this number")
    add.add_argument("number")
    add.add_argument("--reason", required=True)
    add.set_defaults(handler=_handler(cli, _dnr_add))
    remove = sub.add_parser("remove", help="record this number again (with consent)")
    remove.add_argument("number")
    remove.add_argument("--reason")
    remove.set_defaults(handler=_handler(cli, _dnr_remove))
    listing = sub.add_parser("list", help="print the list")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_handler(cli, _dnr_list))
    for parser in (add, remove):
        _request_id(parser)
        _actor(parser)
    for parser in (add, remove, listing):
        _config(parser)


def _add_requests(cli: CommandLine) -> None:
    top = cli.add("requests", _handler(cli, _requests_list), "Data-subject requests.")
    sub = top.add_subparsers(dest="requests_action", metavar="ACTION")
    new = sub.add_parser("new", help="record a request received")
    new.add_argument("--kind", required=True, help=", ".join(requests.RequestKind))
    new.add_argument("--number", required=True)
    new.add_argument("--requester", required=True, help="who asked, and how to answer them")
    new.add_argument("--received", metavar="ISO-DATE", help="when it arrived (default: now)")
    new.set_defaults(handler=_handler(cli, _requests_new))
    listing = sub.add_parser("list", help="open requests, overdue first")
    listing.add_argument("--all", action="store_true", help="closed ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_handler(cli, _requests_list))
    showing = sub.add_parser("show", help="one request and what was done for it")
    showing.add_argument("id", type=int)
    showing.add_argument("--json", action="store_true")
    showing.set_defaults(handler=_handler(cli, _requests_show))
    extend = sub.add_parser("extend", help="extend the deadline once, with a reason")
    extend.add_argument("id", type=int)
    extend.add_argument("--reason", required=True)
    extend.set_defaults(handler=_handler(cli, _requests_extend))
    close = sub.add_parser("close", help="close as done, or as rejected")
    close.add_argument("id", type=int)
    close.add_argument("--rejected", action="store_true")
    close.add_argument("--note", required=True, help="the answer given (reasons if rejected)")
    close.set_defaults(handler=_handler(cli, _requests_close))
    for parser in (new, listing, showing, extend, close):
        _config(parser)
    for parser in (new, extend, close):
        _actor(parser)


def _find(job: _Job) -> int:
    args = job.args

    async def work(session: AsyncSession) -> tuple[lookup.Findings, list[CallSummary]]:
        page_size = min(args.limit or _PAGE, _PAGE)
        found = await lookup.find_everything(
            session, args.number, region=job.region, now=job.now, limit=page_size
        )
        calls, cursor = list(found.calls.calls), found.calls.next_cursor
        while cursor and (args.limit is None or len(calls) < args.limit):
            page = await lookup.find_calls(
                session, args.number, region=job.region, now=job.now, limit=_PAGE, after=cursor
            )
            calls += page.calls
            cursor = page.next_cursor
        return found, calls[: args.limit] if args.limit else calls

    found, calls = job.run(work)
    if args.json:
        _json({**found.to_json(), "calls": [call.to_json() for call in calls]})
    else:
        _out(show.findings(found, calls))
    return 0


def _export(job: _Job) -> int:
    args = job.args
    result = job.run(
        lambda session: export.export_number(
            session,
            job.recordings,
            args.number,
            args.out,
            actor=job.actor,
            now=job.now,
            region=job.region,
            request_id=args.request,
        )
    )
    _out(show.package(result))
    for problem in result.problems:
        sys.stderr.write(f"callrec: {problem.message}\n")
    return 1 if result.problems else 0


def _erase(job: _Job) -> int:
    args = job.args
    result = job.run(
        lambda session: erasure.erase_number(
            session,
            job.recordings,
            args.number,
            actor=job.actor,
            now=job.now,
            region=job.region,
            request_id=args.request,
            do_not_record=args.do_not_record,
            reason=args.reason,
        )
    )
    _out(show.erasure(result))
    return 0


def _rectify(job: _Job) -> int:
    args = job.args
    result = job.run(
        lambda session: rectify.rectify(
            session,
            args.uniqueid,
            field=args.field,
            value=args.value,
            reason=args.reason,
            actor=job.actor,
            now=job.now,
            region=job.region,
            request_id=args.request,
        )
    )
    _out(show.change(result, args.uniqueid))
    return 0


def _history(job: _Job) -> int:
    _out(show.history(job.run(lambda session: rectify.history(session, job.args.uniqueid))))
    return 0


def _restrict(job: _Job) -> int:
    args = job.args
    if (args.uniqueid is None) == (args.number is None):
        raise InputError("Name either one call (UNIQUEID) or a number (--number), not both.")
    common: dict[str, Any] = {
        "reason": args.reason,
        "actor": job.actor,
        "now": job.now,
        "request_id": args.request,
    }
    if args.number is not None:
        by_number = restrict.lift_number if args.lift else restrict.restrict_number
        result = job.run(
            lambda session: by_number(session, args.number, region=job.region, **common)
        )
    else:
        by_call = restrict.lift_call if args.lift else restrict.restrict_call
        result = job.run(lambda session: by_call(session, args.uniqueid, **common))
    _out(show.restriction(result, "lifted" if args.lift else "restricted"))
    return 0


def _dnr_add(job: _Job) -> int:
    args = job.args
    entry = job.run(
        lambda session: donotrecord.add(
            session,
            args.number,
            reason=args.reason,
            actor=job.actor,
            now=job.now,
            region=job.region,
            request_id=args.request,
        )
    )
    _out([f"{entry.number} added to the do-not-record list"])
    return 0


def _dnr_remove(job: _Job) -> int:
    args = job.args
    entry = job.run(
        lambda session: donotrecord.remove(
            session,
            args.number,
            actor=job.actor,
            now=job.now,
            region=job.region,
            reason=args.reason,
            request_id=args.request,
        )
    )
    _out([f"{entry.number} removed from the do-not-record list"])
    return 0


def _dnr_list(job: _Job) -> int:
    entries = job.run(donotrecord.entries)
    if getattr(job.args, "json", False):
        _json([{**vars(e), "added_at": e.added_at.isoformat()} for e in entries])
    else:
        _out(show.do_not_record(entries))
    return 0


def _requests_new(job: _Job) -> int:
    args = job.args
    received = parse_received(args.received) if args.received is not None else None
    view = job.run(
        lambda session: requests.open_request(
            session,
            kind=args.kind,
            number=args.number,
            requester=args.requester,
            actor=job.actor,
            now=job.now,
            region=job.region,
            deadlines=job.deadlines,
            received=received,
        )
    )
    _out([f"request {view.id} opened: {view.kind} for {view.number}, due {show.day(view.due_at)}"])
    return 0


def _requests_list(job: _Job) -> int:
    include_closed = getattr(job.args, "all", False)
    views = job.run(
        lambda session: requests.list_requests(
            session, actor=job.actor, now=job.now, include_closed=include_closed
        )
    )
    if getattr(job.args, "json", False):
        _json([view.to_json() for view in views])
    else:
        _out(show.request_list(views))
    return 0


def _requests_show(job: _Job) -> int:
    detail = job.run(
        lambda session: requests.show_request(session, job.args.id, actor=job.actor, now=job.now)
    )
    if job.args.json:
        _json(
            {
                **detail.request.to_json(),
                "actions": [action.to_json() for action in detail.actions],
            }
        )
    else:
        _out(show.request_detail(detail))
    return 0


def _requests_extend(job: _Job) -> int:
    view = job.run(
        lambda session: requests.extend_request(
            session,
            job.args.id,
            reason=job.args.reason,
            actor=job.actor,
            now=job.now,
            deadlines=job.deadlines,
        )
    )
    _out([f"request {view.id} now due {show.day(view.due_at)}"])
    return 0


def _requests_close(job: _Job) -> int:
    view = job.run(
        lambda session: requests.close_request(
            session,
            job.args.id,
            note=job.args.note,
            actor=job.actor,
            now=job.now,
            rejected=job.args.rejected,
        )
    )
    _out([f"request {view.id} closed: {view.status}"])
    return 0
