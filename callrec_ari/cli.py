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


@dataclass(frozen=True, kw_only=True)
class CommandLine:
    """Hooks from the entry point: adding commands, loading settings, the default actor."""

    add: AddCommand
    load_settings: Callable[[argparse.Namespace], Settings]
    default_actor: str  # the operating-system user running the command
    clock: Callable[[], datetime]  # "now" for holds, purges and requests; tests stop it
