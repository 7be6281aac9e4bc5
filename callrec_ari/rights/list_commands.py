"""``callrec requests ...`` and ``callrec dnr ...``: the request register and the
do-not-record list from the command line (parsing and printing only)."""

from __future__ import annotations

from callrec_ari.cli import CommandLine
from callrec_ari.dates import parse_optional
from callrec_ari.rights import donotrecord, requests
from callrec_ari.rights import text as show
from callrec_ari.rights.job import (
    Job,
    actor_option,
    config_option,
    handler,
    out,
    out_json,
    request_option,
)


def add_commands(cli: CommandLine) -> None:
    """Add ``requests`` and ``dnr`` with their actions."""
    _add_do_not_record(cli)
    _add_requests(cli)


def _add_do_not_record(cli: CommandLine) -> None:
    dnr = cli.add("dnr", handler(cli, _dnr_list), "The do-not-record list.")
    sub = dnr.add_subparsers(dest="dnr_action", metavar="ACTION")
    add = sub.add_parser("add", help="never record this number")
    add.add_argument("number")
    add.add_argument("--reason", required=True)
    add.set_defaults(handler=handler(cli, _dnr_add))
    remove = sub.add_parser("remove", help="record this number again (with consent)")
    remove.add_argument("number")
    remove.add_argument("--reason")
    remove.set_defaults(handler=handler(cli, _dnr_remove))
    listing = sub.add_parser("list", help="print the list")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=handler(cli, _dnr_list))
    for parser in (add, remove):
        request_option(parser)
        actor_option(parser)
    for parser in (add, remove, listing):
        config_option(parser)


def _add_requests(cli: CommandLine) -> None:
    top = cli.add("requests", handler(cli, _requests_list), "Data-subject requests.")
    sub = top.add_subparsers(dest="requests_action", metavar="ACTION")
    new = sub.add_parser("new", help="record a request received")
    new.add_argument("--kind", required=True, help=", ".join(requests.RequestKind))
    new.add_argument("--number", required=True)
    new.add_argument("--requester", required=True, help="who asked, and how to answer them")
    new.add_argument("--received", metavar="ISO-DATE", help="when it arrived (default: now)")
    new.set_defaults(handler=handler(cli, _requests_new))
    listing = sub.add_parser("list", help="open requests, overdue first")
    listing.add_argument("--all", action="store_true", help="closed ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=handler(cli, _requests_list))
    showing = sub.add_parser("show", help="one request and what was done for it")
    showing.add_argument("id", type=int)
    showing.add_argument("--json", action="store_true")
    showing.set_defaults(handler=handler(cli, _requests_show))
    extend = sub.add_parser("extend", help="extend the deadline once, with a reason")
    extend.add_argument("id", type=int)
    extend.add_argument("--reason", required=True)
    extend.set_defaults(handler=handler(cli, _requests_extend))
    close = sub.add_parser("close", help="close as done, or as rejected")
    close.add_argument("id", type=int)
    close.add_argument("--rejected", action="store_true")
    close.add_argument("--note", required=True, help="the answer given (reasons if rejected)")
    close.set_defaults(handler=handler(cli, _requests_close))
    for parser in (new, listing, showing, extend, close):
        config_option(parser)
    for parser in (new, extend, close):
        actor_option(parser)


def _dnr_add(job: Job) -> int:
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
    out([f"{entry.number} added to the do-not-record list"])
    return 0


def _dnr_remove(job: Job) -> int:
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
    out([f"{entry.number} removed from the do-not-record list"])
    return 0


def _dnr_list(job: Job) -> int:
    entries = job.run(
        lambda session: donotrecord.read_entries(session, actor=job.actor, now=job.now)
    )
    if getattr(job.args, "json", False):
        out_json([{**vars(e), "added_at": e.added_at.isoformat()} for e in entries])
    else:
        out(show.do_not_record(entries))
    return 0


def _requests_new(job: Job) -> int:
    args = job.args
    received = parse_optional(args.received, field="--received")
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
    out([f"request {view.id} opened: {view.kind} for {view.number}, due {show.day(view.due_at)}"])
    return 0


def _requests_list(job: Job) -> int:
    include_closed = getattr(job.args, "all", False)
    views = job.run(
        lambda session: requests.list_requests(
            session, actor=job.actor, now=job.now, include_closed=include_closed
        )
    )
    if getattr(job.args, "json", False):
        out_json([view.to_json() for view in views])
    else:
        out(show.request_list(views))
    return 0


def _requests_show(job: Job) -> int:
    detail = job.run(
        lambda session: requests.show_request(session, job.args.id, actor=job.actor, now=job.now)
    )
    if job.args.json:
        out_json(
            {
                **detail.request.to_json(),
                "actions": [action.to_json() for action in detail.actions],
            }
        )
    else:
        out(show.request_detail(detail))
    return 0


def _requests_extend(job: Job) -> int:
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
    out([f"request {view.id} now due {show.day(view.due_at)}"])
    return 0


def _requests_close(job: Job) -> int:
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
    out([f"request {view.id} closed: {view.status}"])
    return 0
