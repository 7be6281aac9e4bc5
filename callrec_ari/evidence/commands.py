"""``callrec evidence UNIQUEID``: the statement of what one caller was told and did.

The operator at the server acts as the dpo, named ``cli:<login name>`` in the trail, as for
the other reads of personal data. Parsing and printing only; the work is in ``read`` and
``statement``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.cli import CommandLine
from callrec_ari.db.session import run_command
from callrec_ari.evidence.read import read_evidence
from callrec_ari.evidence.statement import statement
from callrec_ari.records import CallRecord


def add_commands(cli: CommandLine) -> None:
    """Add ``evidence``."""
    parser = cli.add(
        "evidence",
        lambda args: _evidence(cli, args),
        "Print what one call's caller heard and did before recording (recorded in the audit "
        "trail).",
    )
    parser.add_argument("uniqueid", help="the call's Asterisk uniqueid, e.g. 1795514341.6")
    parser.add_argument("--json", action="store_true", help="the stored facts as JSON")


def _evidence(cli: CommandLine, args: argparse.Namespace) -> int:
    settings = cli.load_settings(args)
    now = cli.clock()
    actor = Actor.of(f"cli:{cli.operator.person}", Role.DPO)

    def read(session: AsyncSession) -> Awaitable[CallRecord]:
        return read_evidence(
            session,
            actor=actor,
            uniqueid=args.uniqueid,
            now=now,
            client=cli.operator.client,
            via="cli",
        )

    record = run_command(settings.database.url, read, client=cli.operator.client)
    if args.json:
        sys.stdout.write(json.dumps(record.to_json()["evidence"], indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{line}\n" for line in statement(record)))
    return 0
