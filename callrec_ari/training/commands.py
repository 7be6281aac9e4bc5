"""``callrec training make|list|delete``: the training library from the command line.

Making and deleting a copy is a supervisor's decision, so the command names the staff
account it acts for (``--as NAME``): that account's roles are checked exactly as on the web
(an enabled supervisor who may play the call), the trail names the account as the actor and
the operating-system user (and ``sudo`` caller) as its client. Listing shows nothing
personal and needs no account. Parsing and printing only; the work is in ``library``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.cli import CommandLine
from callrec_ari.config import Settings
from callrec_ari.db import schema
from callrec_ari.db.session import run_command
from callrec_ari.errors import ForbiddenError
from callrec_ari.rights.job import config_option
from callrec_ari.staff.accounts import find_account
from callrec_ari.storage.recordings import opened_offsite
from callrec_ari.training import library
from callrec_ari.training.library import TrainingCopyView

T = TypeVar("T")


def add_commands(cli: CommandLine) -> None:
    """Add ``training`` and its actions to the ``callrec`` command line."""
    training = cli.add(
        "training",
        lambda args: _list(cli, args),
        "Anonymised training copies of calls (seed 003 §9): make, list, delete.",
    )
    actions = training.add_subparsers(required=True, metavar="ACTION")
    make = _action(actions, "make", lambda args: _make(cli, args), "Make a training copy.")
    make.add_argument("uniqueid", help="the call to copy")
    make.add_argument(
        "--topic", required=True, help="what the call teaches (never a name or number)"
    )
    make.add_argument(
        "--silence",
        action="append",
        default=[],
        metavar="A-B",
        help="a span to silence in both voices, in seconds (12.5-15) or m:ss (repeatable)",
    )
    make.add_argument(
        "--caller",
        choices=["disguise", "remove"],
        default="disguise",
        help="the caller's voice: pitch and formants shifted (default) or left out",
    )
    _as_option(make)
    _action(actions, "list", lambda args: _list(cli, args), "List the training copies.")
    delete = _action(actions, "delete", lambda args: _delete(cli, args), "Delete a training copy.")
    delete.add_argument("copy_id", metavar="ID")
    _as_option(delete)


def _action(
    actions: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
) -> Any:
    parser = actions.add_parser(name, help=text, description=text)
    config_option(parser)
    parser.set_defaults(handler=handler)
    return parser


def _as_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="as_name",
        required=True,
        metavar="NAME",
        help="the supervisor's staff account this is done for",
    )


Work = Callable[[Settings, AsyncSession], Awaitable[T]]


def _run(cli: CommandLine, args: argparse.Namespace, work: Work[T]) -> T:
    settings = cli.load_settings(args)
    schema.require(settings.database.url)
    return run_command(
        settings.database.url,
        lambda session: work(settings, session),
        client=cli.operator.client,
    )


async def _acting(session: AsyncSession, name: str) -> Actor:
    """The staff account ``name`` as an actor; refused if it is disabled."""
    account = await find_account(session, name)
    if account.disabled:
        raise ForbiddenError(f"User {account.username} is disabled and may not act.")
    return account.actor


def _make(cli: CommandLine, args: argparse.Namespace) -> int:
    now = cli.clock()

    async def work(settings: Settings, session: AsyncSession) -> TrainingCopyView:
        async with opened_offsite(settings) as offsite:
            return await library.make_copy(
                session,
                actor=await _acting(session, args.as_name),
                uniqueid=args.uniqueid,
                topic=args.topic,
                spans=",".join(args.silence),
                caller=args.caller,
                settings=settings,
                now=now,
                client=cli.operator.client,
                offsite=offsite,
            )

    made = _run(cli, args, work)
    _out(f"training copy {made.id} made: {_line(made)}")
    return 0


def _list(cli: CommandLine, args: argparse.Namespace) -> int:
    now = cli.clock()

    async def work(_settings: Settings, session: AsyncSession) -> list[TrainingCopyView]:
        return await library.list_copies(session, now=now)

    for copy in _run(cli, args, work):
        _out(f"{copy.id}  {_line(copy)}")
    return 0


def _delete(cli: CommandLine, args: argparse.Namespace) -> int:
    now = cli.clock()

    async def work(settings: Settings, session: AsyncSession) -> TrainingCopyView:
        return await library.delete_copy(
            session,
            actor=await _acting(session, args.as_name),
            copy_id=args.copy_id,
            library=settings.training.dir,
            now=now,
            client=cli.operator.client,
        )

    deleted = _run(cli, args, work)
    _out(f"training copy {deleted.id} deleted")
    return 0


def _line(copy: TrainingCopyView) -> str:
    return (
        f"made {copy.made_month}  expires {copy.expires_on.isoformat()}  "
        f"caller {copy.caller_voice}  language {copy.language or '-'}  topic: {copy.topic}"
    )


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
