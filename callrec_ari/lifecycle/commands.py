"""``callrec purge``, ``orphans``, ``hold ...``: retention and legal holds from the command line.

Parsing and printing only: every decision is made by the service layer (``purge``,
``orphans``, ``holds``). Dates and times are read by ``callrec_ari.dates``, as on the web:
a bare date is the start of that day for ``--from`` and takes in the whole day for ``--to``
and ``--until``; a time without a timezone is UTC.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from callrec_ari.cli import CommandLine
from callrec_ari.cli_audit import record_read
from callrec_ari.config import Settings
from callrec_ari.dates import parse_day_or_moment, parse_optional
from callrec_ari.db import schema
from callrec_ari.db.session import open_sessions
from callrec_ari.errors import InputError
from callrec_ari.lifecycle import holds
from callrec_ari.lifecycle.due import count_due, iter_due
from callrec_ari.lifecycle.orphan_objects import sweep_orphan_objects
from callrec_ari.lifecycle.orphans import Orphan, OrphanReport, sweep_orphans
from callrec_ari.lifecycle.purge import PurgeReport, run_purge
from callrec_ari.lifecycle.report import default_grace, report_json
from callrec_ari.lifecycle.report_query import read_report
from callrec_ari.lifecycle.report_text import report_lines
from callrec_ari.lifecycle.undecided import describe, read_undecided
from callrec_ari.routing import store as routing
from callrec_ari.storage.recordings import opened_offsite
from callrec_ari.training.expiry import ExpiryReport, purge_expired_copies

Sessions = async_sessionmaker[AsyncSession]
# A command's work: settings, sessions, its arguments and the one "now" of the command.
Job = Callable[[Settings, Sessions, argparse.Namespace, datetime], Awaitable[int]]


def add_commands(cli: CommandLine) -> None:
    """Add the lifecycle commands to the ``callrec`` command line."""
    purge = cli.add(
        "purge",
        _runner(cli, _purge),
        "Delete the recordings whose retention ran out and reduce their rows to statistics.",
    )
    purge.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    purge.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    orphans = cli.add(
        "orphans", _runner(cli, _orphans), "Report recordings no call row knows about."
    )
    orphans.add_argument(
        "--remove", action="store_true", help="delete those older than the longest retention"
    )

    listed = functools.partial(_list, reader=f"cli:{cli.default_actor}")
    hold = cli.add("hold", _runner(cli, listed), "Place, release and list legal holds.")
    actions = hold.add_subparsers(required=True, metavar="ACTION")
    place = _action(actions, "place", _runner(cli, _place), "Place a legal hold.")
    place.add_argument("--case", required=True, help="the case reference")
    place.add_argument("--reason", required=True, help="why the calls must be kept")
    which = place.add_mutually_exclusive_group(required=True)
    which.add_argument("--call", nargs="+", action="extend", metavar="UNIQUEID", help="these calls")
    which.add_argument("--number", help="every call from this number (with --from and --to)")
    place.add_argument("--from", dest="period_from", metavar="ISO", help="period start")
    place.add_argument(
        "--to", dest="period_to", metavar="ISO", help="period end (a date is included)"
    )
    place.add_argument("--until", metavar="ISO", help="the hold ends by itself then (after a date)")
    place.add_argument("--actor", default=cli.default_actor, help="who places it")

    release = _action(actions, "release", _runner(cli, _release), "Release a legal hold.")
    release.add_argument("hold_id", type=int, metavar="HOLD_ID")
    release.add_argument("--reason", required=True, help="why the hold ends")
    release.add_argument("--actor", default=cli.default_actor, help="who releases it")

    listing = _action(actions, "list", _runner(cli, listed), "List legal holds.")
    listing.add_argument("--all", action="store_true", help="released and ended holds too")
    listing.add_argument("--call", metavar="UNIQUEID", help="only the holds of this call")

    retention = cli.add("retention", _runner(cli, _report), "Report on what is kept and why.")
    retention_actions = retention.add_subparsers(required=True, metavar="ACTION")
    report = _action(
        retention_actions,
        "report",
        _runner(cli, _report),
        "Overdue calls, the oldest kept per policy, holds and restricted calls; exit status 1 "
        "if anything is overdue.",
    )
    report.add_argument("--json", action="store_true", help="the report as one JSON object")
    report.set_defaults(reader=f"cli:{cli.default_actor}")


def _action(
    actions: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
) -> Any:
    parser = actions.add_parser(name, help=text, description=text)
    # Also accepted after the action; SUPPRESS keeps a -c given before it.
    parser.add_argument(
        "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the TOML config file"
    )
    parser.set_defaults(handler=handler)
    return parser


def _runner(cli: CommandLine, job: Job) -> Callable[[argparse.Namespace], int]:
    """The argparse handler running ``job`` with the settings, a session factory and now."""

    def handler(args: argparse.Namespace) -> int:
        settings = cli.load_settings(args)
        schema.require(settings.database.url)  # "run callrec migrate first", not an SQL error
        now = cli.clock()

        async def main() -> int:
            async with open_sessions(settings.database.url, client=cli.operator.client) as sessions:
                async with sessions() as session:
                    # The admin's policies count as much as the config file's.
                    current = await routing.effective(session, settings)
                return await job(current, sessions, args, now)

        return asyncio.run(main())

    return handler


async def _purge(
    settings: Settings, sessions: Sessions, args: argparse.Namespace, now: datetime
) -> int:
    options: dict[str, Any] = {"retention": settings.retention, "now": now}
    batch = settings.lifecycle.purge_batch_size
    if args.dry_run:
        async for calls in iter_due(sessions, batch_size=batch, **options):
            for call in calls:
                _out(
                    f"would purge {call.uniqueid}  {call.reason}  "
                    f"delete_after={_when(call.delete_after)}  {call.recording_path or '-'}"
                )
    total = 0 if args.no_progress else await count_due(sessions, **options)
    with tqdm(
        total=total, unit="call", file=sys.stderr, disable=args.no_progress or not total
    ) as bar:

        def advance(done: int) -> None:
            bar.update(done)

        async with opened_offsite(settings) as offsite:
            report = await run_purge(
                sessions,
                recordings_dir=settings.recording.service_dir,
                batch_size=batch,
                dry_run=args.dry_run,
                on_progress=advance,
                offsite=offsite,
                **options,
            )
    status = _print_purge(report)
    _print_training(
        await purge_expired_copies(
            sessions, library=settings.training.dir, now=now, dry_run=args.dry_run
        )
    )
    return status


def _print_training(report: ExpiryReport) -> None:
    """The training library's part of the purge, when it did anything."""
    if report.expired:
        verb = "would delete" if report.dry_run else "deleted"
        missing = f" ({report.files_missing} files already missing)" if report.files_missing else ""
        copies = "copy" if report.expired == 1 else "copies"
        _out(f"{verb} {report.expired} expired training {copies}{missing}")
    if report.strays_removed:
        verb = "would remove" if report.dry_run else "removed"
        _out(f"{verb} {_n(report.strays_removed, 'stray file')} from the training library")


def _print_purge(report: PurgeReport) -> int:
    verb = "would purge" if report.dry_run else "purged"
    deleted = "to delete" if report.dry_run else "deleted"
    _out(
        f"{verb} {_n(report.reduced, 'call')} ({report.by_retention} by retention, "
        f"{report.by_erasure} by erasure): {_n(report.files_deleted, 'recording')} {deleted}, "
        f"{report.files_missing} already missing"
    )
    if report.dates_filled:
        filled = _n(report.dates_filled, "call")
        _out(f"gave {filled} without a deletion date the one of their policy")
    if report.kept_restricted:
        kept = _n(report.kept_restricted, "call")
        _out(
            f"kept {kept} past their deletion date: their processing is restricted (GDPR "
            "Art. 18); lifting the restriction lets the purge take them"
        )
    for refused in report.refused_calls:
        _error(
            f"call {refused.uniqueid!r} left untouched: its recording path "
            f"{refused.recording_path!r} is outside the recordings folder."
        )
    if report.refused > len(report.refused_calls):
        more = report.refused - len(report.refused_calls)
        _error(f"... and {_n(more, 'call')} more like these, left untouched as well.")
    for name, count in sorted(report.unknown_policies.items()):
        _error(
            f"{_n(count, 'call')} left untouched: their retention policy {name!r} is not in the "
            "configuration."
        )
    return 1 if report.refused or report.unknown_policy else 0


async def _orphans(
    settings: Settings, sessions: Sessions, args: argparse.Namespace, now: datetime
) -> int:
    keep = settings.longest_retention_days
    report = await sweep_orphans(
        sessions,
        settings.recording.service_dir,
        now=now,
        keep_days=keep,
        remove=args.remove,
        on_orphan=lambda orphan: _out(_orphan_line(orphan, keep)),
    )
    _print_orphans(report, keep)
    async with opened_offsite(settings) as offsite:
        if offsite is not None:
            _out(f"in {offsite.store.description}:")
            stored = await sweep_orphan_objects(
                sessions,
                offsite,
                now=now,
                keep_days=keep,
                remove=args.remove,
                on_orphan=lambda orphan: _out(_orphan_line(orphan, keep)),
            )
            _print_orphans(stored, keep)
    # Not orphans (a row knows them): named so the DPO decides what becomes of them.
    async with sessions() as session:
        undecided, total = await read_undecided(session)
    for call in undecided:
        _out(describe(call))
    if total:
        _out(f"{_n(total, 'recording')} kept that could not be read: they need a decision")
    return 0


def _orphan_line(orphan: Orphan, keep_days: int) -> str:
    if orphan.removed:
        state = "removed"
    elif orphan.removable:
        state = f"older than {keep_days} days (--remove deletes it)"
    else:
        state = f"kept: younger than {keep_days} days"
    files = "+".join(orphan.files)
    return (
        f"orphan {orphan.relative_path}  {files}  {orphan.size_bytes} bytes  "
        f"{orphan.file_time.date().isoformat()}  {state}"
    )


def _print_orphans(report: OrphanReport, keep_days: int) -> None:
    _out(
        f"{_n(report.orphans, 'orphan')} among {_n(report.recordings, 'recording')} in "
        f"{_n(report.days, 'day folder')}; {report.removable} older than the longest retention "
        f"({keep_days} days), {report.removed} removed ({report.bytes_removed} bytes)"
    )
    if report.skipped_links:
        links = _n(report.skipped_links, "symbolic link")
        _error(f"{links} in the recordings folder left alone: callrec never follows links.")


async def _place(
    settings: Settings, sessions: Sessions, args: argparse.Namespace, now: datetime
) -> int:
    request = holds.HoldRequest(
        case_reference=args.case,
        reason=args.reason,
        placed_by=args.actor,
        ends_at=parse_optional(args.until, field="--until", end_of_day=True),
    )
    if args.number is None and (args.period_from or args.period_to):
        raise InputError("--from and --to go with --number, not with --call.")
    if args.number is not None and not (args.period_from and args.period_to):
        raise InputError("--number needs a period: --from and --to.")
    if args.number is None:
        hold = await holds.hold_calls(sessions, request, args.call, now=now)
    else:
        hold = await holds.hold_number(
            sessions,
            request,
            args.number,
            period_from=parse_day_or_moment(args.period_from, field="--from"),
            period_to=parse_day_or_moment(args.period_to, field="--to", end_of_day=True),
            region=settings.numbers_region,
            now=now,
        )
    _out(f"hold {hold.id} placed on {_n(hold.calls, 'call')} (case {hold.case_reference})")
    return 0


async def _release(
    settings: Settings, sessions: Sessions, args: argparse.Namespace, now: datetime
) -> int:
    async with opened_offsite(settings) as offsite:
        released = await holds.release_hold(
            sessions,
            args.hold_id,
            released_by=args.actor,
            reason=args.reason,
            now=now,
            recordings_dir=settings.recording.service_dir,
            retention=settings.retention,
            batch_size=settings.lifecycle.purge_batch_size,
            offsite=offsite,
        )
    _out(
        f"hold {released.hold.id} released; other holds still keep {released.still_held} "
        f"of its {_n(released.hold.calls, 'call')}"
    )
    return _print_purge(released.purged)


async def _list(
    _settings: Settings,
    sessions: Sessions,
    args: argparse.Namespace,
    now: datetime,
    *,
    reader: str,
) -> int:
    if args.call is not None:
        found = await holds.holds_of_call(sessions, args.call, now=now)
    else:
        found = await holds.list_holds(sessions, now=now, include_inactive=args.all)
    # The list shows callers' numbers: recorded like any other read of personal data.
    async with sessions() as session, session.begin():
        await record_read(
            session,
            actor=reader,
            now=now,
            action="hold.list",
            command="hold list",
            asked={"call": args.call, "all": bool(getattr(args, "all", False))},
            results=len(found),
        )
    for hold in found:
        _out(_hold_line(hold))
    return 0


def _hold_line(hold: holds.Hold) -> str:
    if hold.released_at is not None:
        state = f"released {_when(hold.released_at)} by {hold.released_by}: {hold.release_reason}"
    else:
        state = "active" if hold.active else f"ended {_when(hold.ends_at)}"
    scope = _n(hold.calls, "call")
    if hold.number_e164 is not None:
        scope += f" from {hold.number_e164} {_when(hold.period_from)}..{_when(hold.period_to)}"
    until = f" until {_when(hold.ends_at)}" if hold.ends_at and hold.active else ""
    return (
        f"hold {hold.id}  case {hold.case_reference}  {scope}  placed {_when(hold.placed_at)} "
        f"by {hold.placed_by}{until}  reason: {hold.reason}  [{state}]"
    )


async def _report(
    settings: Settings, sessions: Sessions, args: argparse.Namespace, now: datetime
) -> int:
    report = await read_report(
        sessions,
        retention=settings.retention,
        now=now,
        grace=default_grace(settings.lifecycle),
        actor=args.reader,
    )
    if args.json:
        _out(json.dumps(report_json(report)))
    else:
        for line in report_lines(report):
            _out(line)
    for problem in report.problems:
        _error(problem)
    return report.exit_status


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(timespec="seconds")


def _n(count: int, noun: str) -> str:
    """``1 call``, ``2 calls``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _error(message: str) -> None:
    sys.stderr.write(f"callrec: {message}\n")
