"""Placeholder replaced by the module's commands."""

from __future__ import annotations

from callrec_ari.cli import CommandLine


def add_commands(cli: CommandLine) -> None:
    """Register this package's subcommands."""
    del cli
