"""What every ``callrec`` subcommand module gets from the command line's entry point.

Subcommand modules (``lifecycle/commands.py``, ``rights/commands.py``) only parse arguments,
call the service layer and print; the entry point is the only place reading the environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from callrec_ari.config import Settings

Handler = Callable[[argparse.Namespace], int]


class AddCommand(Protocol):
    """Adds a subcommand that takes ``-c/--config`` and runs ``handler``."""

    def __call__(self, name: str, handler: Handler, text: str, /) -> Any:
        """The new subcommand's ``argparse`` parser, to add arguments or subparsers to."""


_NAME_MAX = 26  # two names and the labels fit the audit trail's 64-character client column


@dataclass(frozen=True, kw_only=True)
class Operator:
    """Who runs the command: the operating-system user and, under ``sudo``, who called it."""

    os_user: str
    sudo_user: str | None = None

    @property
    def person(self) -> str:
        """The human at the keyboard: the ``sudo`` caller if there is one."""
        return self.sudo_user or self.os_user

    @property
    def client(self) -> str:
        """What every audit entry of the command records as its client: ``cli:root sudo:anna``.

        Whatever ``--actor`` says the command is done on behalf of, this names who ran it.
        """
        text = f"cli:{self.os_user[:_NAME_MAX]}"
        return f"{text} sudo:{self.sudo_user[:_NAME_MAX]}" if self.sudo_user else text


@dataclass(frozen=True, kw_only=True)
class CommandLine:
    """Hooks from the entry point: adding commands, loading settings, the default actor."""

    add: AddCommand
    load_settings: Callable[[argparse.Namespace], Settings]
    default_actor: str  # the operating-system user running the command
    clock: Callable[[], datetime]  # "now" for holds, purges and requests; tests stop it
    operator: Operator  # read once by the entry point, recorded in every audit entry
