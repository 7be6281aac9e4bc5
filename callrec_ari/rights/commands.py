"""``callrec find``, ``export``, ``erase``, ``requests``...: data-subject rights from the CLI."""

from __future__ import annotations

from callrec_ari.cli import CommandLine


def add_commands(cli: CommandLine) -> None:
    """Add the data-subject rights commands to the ``callrec`` command line."""
