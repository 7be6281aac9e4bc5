"""``callrec audit verify|witness|show|export``: the audit trail from the command line.

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
from callrec_ari.audit.witness import Report
from callrec_ari.audit.witnessing import Witnesser, check_against, checking_key
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
    verify.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="a witness file (or JSON log lines) to check the trail against; default: "
        "[audit] witness_file when it exists",
    )
    verify.set_defaults(handler=_handler(cli, _verify))
    witness = sub.add_parser("witness", help="sign the head now and append it to the witness file")
    witness.set_defaults(handler=_handler(cli, _witness))
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
    for parser in (verify, witness, show, export):
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
        settings = cli.load_settings(args)
        self.url = settings.database.url
        self.audit = settings.audit
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
    against: Path | None = getattr(job.args, "against", None)
    if against is None and job.audit.witness_file.exists():
        against = job.audit.witness_file
    if against is None:
        verdict = job.run(verify_chain)
        _out(verdict_lines(verdict))
        return 0 if verdict.intact else 1
    key = checking_key(job.audit)
    witnessed = against

    async def both(session: AsyncSession) -> tuple[Verdict, Report]:
        verdict = await verify_chain(session)
        report = await check_against(session, key=key, path=witnessed, head_seq=verdict.head_seq)
        return verdict, report

    verdict, report = job.run(both)
    _out(verdict_lines(verdict, report))
    return 0 if verdict.intact and report.intact else 1


def _witness(job: _Job) -> int:
    witnesser = Witnesser.open(job.audit, resume=False)  # written whether the head moved or not
    try:
        witness = job.run(lambda session: witnesser.witness(session, job.now))
    except OSError as exc:
        raise InputError(
            f"The witness file {witnesser.path} cannot be written: {exc.strerror}."
        ) from None
    _out([f"Witnessed entry {witness.seq} (head {witness.hash}) in {witnesser.path}"])
    return 0


def verdict_lines(verdict: Verdict, report: Report | None = None) -> list[str]:
    """What ``callrec audit verify`` prints: the problems, then one summary line, then (when
    checked against witnesses) one line about them."""
    head = verdict.head_hash or "missing"
    witnessed = [] if report is None else [_witness_summary(report)]
    if verdict.intact and (report is None or report.intact):
        return [f"{verdict.entries} entries, chain intact; head {head}", *witnessed]
    lines = [problem.text for problem in verdict.problems]
    if verdict.more_problems:
        lines.append(f"... and {verdict.more_problems} more problem(s).")
    if report is not None:
        lines.extend(problem.text for problem in report.problems)
    found = len(verdict.problems) + verdict.more_problems
    found += 0 if report is None else len(report.problems)
    lines.append(f"{verdict.entries} entries checked, {found} problem(s); head {head}")
    return lines + witnessed


def _witness_summary(report: Report) -> str:
    newest = report.newest
    latest = "" if newest is None else f"; newest: entry {newest.seq} at {newest.at.isoformat()}"
    verdict = "all match the trail" if report.intact else f"{len(report.problems)} problem(s)"
    return f"{report.records} witness record(s) in {report.source}, {verdict}{latest}"


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
