"""What the servers the tests start themselves (PostgreSQL, SeaweedFS) share: a private folder,
and a ``with`` block that starts the server and, on the way out, stops it and deletes the
folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType
from typing import Self


class ServerUnderTest:
    """A server process of the tests' own in ``root``; subclasses start and stop it."""

    root: Path

    def start(self) -> None:
        """Start the server and wait until it answers."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server (only the process this object started)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
