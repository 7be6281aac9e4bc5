"""``callrec keys new|status|rotate``: the master keys from the command line.

Parsing and printing only; the work is in ``rotate`` and ``store``. Two ways to rotate:

- ``callrec keys rotate --new-key-file NEW``: re-wrap under NEW with the configured keys;
  then point ``key_file`` at NEW (the old one into ``previous_key_files``) and restart;
  run it once more for the keys wrapped in between, then retire the old key.
- point ``key_file`` at the new key and list the old one in ``previous_key_files`` first,
  restart, then ``callrec keys rotate``: re-wraps everything under the configured key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from callrec_ari.cli import CommandLine
from callrec_ari.config.encryption import read_master_key, require_master_keys
from callrec_ari.crypto import store
from callrec_ari.crypto.rotate import DEFAULT_BATCH, Rotation, rotate
from callrec_ari.db import schema
from callrec_ari.db.session import open_sessions
from callrec_ari.errors import InputError
from callrec_ari.keyfile import create_if_missing


def add_commands(cli: CommandLine) -> None:
    """Add ``keys`` and its actions to the ``callrec`` command line."""
    top = cli.add("keys", lambda args: _status(cli, args), "Master keys of encrypted recordings.")
    actions = top.add_subparsers(required=True, metavar="ACTION")
    new = _action(actions, "new", _new, "Make a new master key file (0600).")
    new.add_argument("--out", type=Path, required=True, metavar="FILE", help="must not exist")
    _action(actions, "status", lambda args: _status(cli, args), "Recording keys per master key.")
    rotation = _action(
        actions,
        "rotate",
        lambda args: _rotate(cli, args),
        "Re-wrap every recording's key under a new master key (audio untouched; resumable).",
    )
    rotation.add_argument(
        "--new-key-file",
        type=Path,
        metavar="FILE",
        help="the new master key (default: the configured key_file, from previous_key_files)",
    )
    rotation.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="rows per transaction")
    rotation.add_argument("--limit", type=int, help="stop after this many rows (run again later)")


def _action(actions: Any, name: str, handler: Any, text: str) -> Any:
    parser = actions.add_parser(name, help=text, description=text)
    # SUPPRESS keeps a -c given before the action: a default here would overwrite it.
    parser.add_argument(
        "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the TOML config file"
    )
    parser.set_defaults(handler=handler)
    return parser


def _new(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists():
        raise InputError(f"The file {out} exists already; name a new one.")
    create_if_missing(out, "master key file")
    _say(f"Made master key {read_master_key(out).key_id} in {out} (mode 0600); back it up.")
    return 0


def _status(cli: CommandLine, args: argparse.Namespace) -> int:
    settings = cli.load_settings(args)
    schema.require(settings.database.url)  # "run callrec migrate first", not an SQL error
    keys = settings.encryption.master_keys

    async def count() -> dict[str, int]:
        async with open_sessions(settings.database.url) as sessions, sessions() as session:
            return await store.count_by_master_key(session)

    counts = asyncio.run(count())
    current = keys.current_id if keys is not None else None
    _say(f"encryption: {'on' if settings.encryption.enabled else 'off'}; master key: {current}")
    for key_id, rows in sorted(counts.items()):
        if key_id == current:
            held = "current"
        else:
            held = "held" if keys is not None and keys.holds(key_id) else "NOT HELD"
        _say(f"{key_id}  {rows} recording key(s)  {held}")
    return 0


def _rotate(cli: CommandLine, args: argparse.Namespace) -> int:
    settings = cli.load_settings(args)
    schema.require(settings.database.url)  # "run callrec migrate first", not an SQL error
    if args.batch < 1 or (args.limit is not None and args.limit < 1):
        raise InputError("--batch and --limit must be at least 1.")
    new_file: Path | None = args.new_key_file

    async def run() -> Rotation:
        # The database first: a command that cannot reach it says so before anything else.
        async with open_sessions(settings.database.url, client=cli.operator.client) as sessions:
            keys = require_master_keys(settings.encryption)
            new_key = keys.current if new_file is None else read_master_key(new_file)
            return await rotate(
                sessions,
                keys=keys,
                new_key=new_key,
                actor=cli.default_actor,
                clock=cli.clock,
                batch_size=args.batch,
                limit=args.limit,
            )

    result = asyncio.run(run())
    _say(f"Re-wrapped {result.rewrapped} recording key(s) under master key {result.to_key}.")
    if result.left:
        _say(f"{result.left} left under older keys: run `callrec keys rotate` again.")
    for key_id, rows in sorted(result.unknown.items()):
        _say(
            f"{rows} recording key(s) are wrapped by master key {key_id}, which this "
            "configuration does not hold: add its file to previous_key_files.",
            error=True,
        )
    return 1 if result.unknown else 0


def _say(line: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(line + "\n")
