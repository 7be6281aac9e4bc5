"""What every rights command shares: settings, the acting person, the clock, a transaction.

The operator at the server acts as the data-protection officer, under their login name
unless ``--actor`` names someone they act for; either way every audit entry's client names
the operating-system user who ran the command, and the ``sudo`` caller if any.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.cli import CommandLine
from callrec_ari.config import Settings
from callrec_ari.db.session import run_command
from callrec_ari.rights.deadlines import Deadlines

T = TypeVar("T")


class Job:
    """One command run: its arguments, settings, actor and time, and its one transaction."""

    def __init__(self, cli: CommandLine, args: argparse.Namespace) -> None:
        self.args = args
        self.operator = cli.operator
        self.settings: Settings = cli.load_settings(args)
        name = getattr(args, "actor", None) or cli.default_actor
        self.actor = Actor.of(name, Role.DPO)
        self.now = cli.clock()
        self.region = self.settings.numbers_region
        self.recordings = self.settings.recording.service_dir
        self.deadlines = Deadlines.from_settings(self.settings.lifecycle)

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction: committed if it returns, rolled back if it raises.

        Every audit entry it writes names the operator (``Operator.client``)."""
        return run_command(self.settings.database.url, work, client=self.operator.client)


def handler(cli: CommandLine, body: Callable[[Job], int]) -> Callable[[argparse.Namespace], int]:
    """An argparse handler running ``body`` as a ``Job``."""
    return lambda args: body(Job(cli, args))


def out(lines: Iterable[str]) -> None:
    """Print lines to standard output."""
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def out_json(data: Any) -> None:
    """Print one indented JSON document."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def request_option(parser: argparse.ArgumentParser) -> None:
    """``--request ID``: the request an action answers."""
    parser.add_argument("--request", type=int, metavar="ID", help="the request this answers")


def actor_option(parser: argparse.ArgumentParser) -> None:
    """``--actor NAME``: who acts, for the records."""
    parser.add_argument(
        "--actor",
        metavar="NAME",
        help="on whose behalf (default: your login name); the trail names you too",
    )


def config_option(parser: argparse.ArgumentParser) -> None:
    """``-c/--config`` on a sub-command, not overriding one given before it."""
    # SUPPRESS keeps a -c given before the sub-command: a default here would overwrite it.
    parser.add_argument(
        "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the TOML config file"
    )
