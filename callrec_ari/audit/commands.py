"""``callrec audit verify|show|export``: the audit trail from the command line.

The operator at the server acts as the dpo, named ``cli:<login name>`` in the trail. Parsing
and printing only; the work is in ``verify``, ``read`` and ``trail``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.audit.read import FORMATS, EntryView, ExportFormat, export_entries, read_entries
from callrec_ari.audit.verify import Verdict, verify_chain
from callrec_ari.cli import CommandLine
from callrec_ari.dates import parse_optional
from callrec_ari.db.session import run_command
from callrec_ari.errors import InputError

T = TypeVar("T")
DEFAULT_LIMIT = 20
_SHOW_DEFAULTS = {
    "since": None,
    "until": None,
    "actor": None,
    "action": None,
    "target": None,
    "before": None,
    "limit": DEFAULT_LIMIT,
    "json": False,
}


def add_commands(cli: CommandLine) -> None:
    """Add ``audit`` with ``verify``, ``show`` (the default) and ``export``."""
    top = cli.add("audit", _handler(cli, _show), "The staff audit trail: check, read, export.")
    top.set_defaults(**_SHOW_DEFAULTS)
    sub = top.add_subparsers(dest="audit_action", metavar="ACTION")
    verify = sub.add_parser("verify", help="check every entry's hash; print the head hash")
    verify.set_defaults(handler=_handler(cli, _verify))
    show = sub.add_parser("show", help="entries, newest first (recorded as audit.read)")
    _time_options(show)
    show.add_argument("--actor", metavar="NAME", help="only what this person did")
    show.add_argument("--action", help="only this action and its sub-actions (hold: hold.*)")
    show.add_argument("--target", help="only entries about this call, user, ...")
    show.add_argument("--before", type=int, metavar="SEQ", help="the page before this entry")
    show.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="entries per page")
    show.add_argument("--json", action="store_true", help="a JSON list")
    show.set_defaults(handler=_handler(cli, _show))
    export = sub.add_parser("export", help="write entries with their hashes to a new file")
    export.add_argument("--out", type=Path, required=True, help="the file to create")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    _time_options(export)
    export.set_defaults(handler=_handler(cli, _export))
    for parser in (verify, show, export):
        # SUPPRESS keeps a -c given before the action: a default here would overwrite it.
        parser.add_argument(
            "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the TOML config file"
        )


def _time_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="ISO", help="from this date or time (inclusive)")
    parser.add_argument(
        "--until", metavar="ISO", help="up to this date (included) or time (excluded)"
    )


class _Job:
    """One command run: the operator as the dpo, the time, and one transaction."""

    def __init__(self, cli: CommandLine, args: argparse.Namespace) -> None:
        self.args = args
        self.url = cli.load_settings(args).database.url
        self.client = cli.operator.client
        self.actor = Actor.of(f"cli:{cli.default_actor}", Role.DPO)
        self.now = cli.clock()

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises."""
        return run_command(self.url, work, client=self.client)


def _handler(cli: CommandLine, body: Callable[[_Job], int]) -> Callable[[argparse.Namespace], int]:
    return lambda args: body(_Job(cli, args))


def _out(lines: Iterable[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def _verify(job: _Job) -> int:
    verdict = job.run(verify_chain)
    _out(verdict_lines(verdict))
    return 0 if verdict.intact else 1


def verdict_lines(verdict: Verdict) -> list[str]:
    """What ``callrec audit verify`` prints: the problems, then one summary line."""
    head = verdict.head_hash or "missing"
    if verdict.intact:
        return [f"{verdict.entries} entries, chain intact; head {head}"]
    lines = [problem.text for problem in verdict.problems]
    if verdict.more_problems:
        lines.append(f"... and {verdict.more_problems} more problem(s).")
    found = len(verdict.problems) + verdict.more_problems
    lines.append(f"{verdict.entries} entries checked, {found} problem(s); head {head}")
    return lines


def _show(job: _Job) -> int:
    args = job.args
    views = job.run(
        lambda session: read_entries(
            session,
            actor=job.actor,
            now=job.now,
            since=parse_optional(args.since, field="--since"),
            until=parse_optional(args.until, field="--until", end_of_day=True),
            who=args.actor,
            action=args.action,
            target=args.target,
            before_seq=args.before,
            limit=args.limit,
        )
    )
    if args.json:
        sys.stdout.write(json.dumps([v.to_json() for v in views], indent=2, ensure_ascii=False))
        sys.stdout.write("\n")
        return 0
    _out(entry_line(view) for view in views)
    if len(views) == args.limit:
        _out([f"(older entries: --before {views[-1].seq})"])
    return 0


def entry_line(view: EntryView) -> str:
    """One entry on one line: seq, UTC time, actor, action, target, client, detail."""
    detail = json.dumps(view.detail, ensure_ascii=False, sort_keys=True) if view.detail else ""
    fields = [
        f"{view.seq:>6}",
        view.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        view.actor,
        view.action,
        view.target or "-",
        view.client or "-",
        detail,
    ]
    return "  ".join(fields).rstrip()


def _export(job: _Job) -> int:
    args = job.args
    since = parse_optional(args.since, field="--since")
    until = parse_optional(args.until, field="--until", end_of_day=True)
    path: Path = args.out
    fmt = cast("ExportFormat", args.format)  # argparse allowed FORMATS only
    try:
        # "x": an existing file, perhaps an earlier export, is never overwritten.
        out = path.open("x", encoding="utf-8", newline="")
    except FileExistsError:
        raise InputError(f"{path} exists already: choose a new file name.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be created: {exc.strerror}.") from None
    try:
        with out:
            count = job.run(
                lambda session: export_entries(
                    session,
                    actor=job.actor,
                    now=job.now,
                    out=out,
                    fmt=fmt,
                    since=since,
                    until=until,
                )
            )
    except BaseException:
        path.unlink(missing_ok=True)  # not recorded as exported, so not left lying around
        raise
    _out([f"{count} entries written to {path}"])
    return 0
