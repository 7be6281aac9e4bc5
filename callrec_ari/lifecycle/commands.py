"""``callrec purge``, ``callrec hold ...``: retention and legal holds from the command line."""

from __future__ import annotations

from callrec_ari.cli import CommandLine


def add_commands(cli: CommandLine) -> None:
    """Add the lifecycle commands to the ``callrec`` command line."""
