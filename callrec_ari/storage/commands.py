"""``callrec storage check|backfill``: whether the configured recording store works, in one
sentence; and the recordings from before encryption or object storage, brought over."""

from __future__ import annotations

import argparse
import asyncio
import sys

from callrec_ari.cli import CommandLine
from callrec_ari.errors import InputError
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
    backfill = actions.add_parser(
        "backfill",
        help="seal (and upload) recordings kept from before encryption or S3 was turned on",
        description=(
            "Seal the plain recordings of calls older than the service's sweep window and, "
            "with [storage] kind = s3, upload them; safe beside the service, resumable."
        ),
    )
    config_option(backfill)
    backfill.add_argument(
        "--wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for the store to confirm the uploads (default 600)",
    )
    backfill.set_defaults(handler=lambda args: _backfill(cli, args))


def _check(cli: CommandLine, args: argparse.Namespace) -> int:
    from callrec_ari.storage.check import check  # noqa: PLC0415 - may load the S3 client

    settings = cli.load_settings(args)
    said = asyncio.run(check(settings.storage, settings.recording.service_dir))
    sys.stdout.write(said + "\n")
    return 0


def _backfill(cli: CommandLine, args: argparse.Namespace) -> int:
    from callrec_ari.storage.backfill import ready_to_backfill, run_backfill  # noqa: PLC0415

    if args.wait < 0:
        raise InputError("--wait must be 0 or more seconds.")
    settings = cli.load_settings(args)
    keys = ready_to_backfill(settings)
    for line in asyncio.run(run_backfill(cli, settings, keys, wait_seconds=args.wait)):
        sys.stdout.write(line + "\n")
    return 0
