"""``callrec calls``: the latest call rows for a terminal or a script, the read audited."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.cli import CommandLine
from callrec_ari.cli_audit import record_read
from callrec_ari.db.repository import latest_calls
from callrec_ari.db.session import run_command
from callrec_ari.records import CallRecord


def add_commands(cli: CommandLine) -> None:
    """Add ``calls`` to the ``callrec`` command line."""
    calls = cli.add(
        "calls",
        lambda args: _calls(cli, args),
        "Print the latest call rows (recorded in the audit trail).",
    )
    calls.add_argument("--limit", type=int, default=10)
    calls.add_argument("--json", action="store_true", help="one JSON object per line")


def _calls(cli: CommandLine, args: argparse.Namespace) -> int:
    settings = cli.load_settings(args)
    now = cli.clock()
    operator = cli.operator

    async def read(session: AsyncSession) -> list[CallRecord]:
        records = await latest_calls(session, args.limit)
        await record_read(
            session,
            actor=f"cli:{operator.os_user}",
            now=now,
            action="search",
            command="calls",
            asked={"limit": args.limit},
            results=len(records),
        )
        return records

    for record in run_command(settings.database.url, read, client=operator.client):
        _out(json.dumps(record.to_json()) if args.json else format_record(record))
    return 0


def format_record(record: CallRecord) -> str:
    """A call row for a terminal, one field per line."""
    return "\n".join([*(f"{key:>18}: {value}" for key, value in record.to_json().items()), ""])


def _out(line: object) -> None:
    sys.stdout.write(f"{line}\n")
