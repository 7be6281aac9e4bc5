"""``callrec storage check``: whether the configured recording store works, in one sentence."""

from __future__ import annotations

import argparse
import asyncio
import sys

from callrec_ari.cli import CommandLine
from callrec_ari.rights.job import config_option


def add_commands(cli: CommandLine) -> None:
    """Add ``storage check`` to the ``callrec`` command line."""
    storage = cli.add(
        "storage",
        lambda args: _check(cli, args),
        "The store finished recordings are kept in ([storage]): check it works.",
    )
    actions = storage.add_subparsers(required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="store, read back and delete a small object",
        description="Store a small object in the configured store, read it back, delete it.",
    )
    config_option(check)
    check.set_defaults(handler=lambda args: _check(cli, args))


def _check(cli: CommandLine, args: argparse.Namespace) -> int:
    from callrec_ari.storage.check import check  # noqa: PLC0415 - may load the S3 client

    settings = cli.load_settings(args)
    said = asyncio.run(check(settings.storage, settings.recording.service_dir))
    sys.stdout.write(said + "\n")
    return 0
