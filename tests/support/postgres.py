"""A throwaway PostgreSQL server in a temporary folder, for tests on the real database.

It uses the Debian ``postgresql`` package's binaries but none of its clusters: its own data
folder, a free port on 127.0.0.1 and a socket folder of its own, so a cluster the package
started on 5432 neither helps nor gets in the way. ``initdb`` refuses to run as root, so as
root every server command runs as the ``postgres`` system user, who owns the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support.server import ServerUnderTest

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_OWNER = "postgres"
# Durability is worthless for a database thrown away after the tests, and costs seconds.
_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
log_min_messages = warning
"""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: the newest Debian PostgreSQL, else the PATH."""
    versions = [
        path
        for path in _DEBIAN_ROOT.glob("*")
        if re.fullmatch(r"\d+", path.name) and (path / "bin" / "initdb").is_file()
    ]
    if versions:
        return max(versions, key=lambda path: int(path.name)) / "bin"
    initdb = shutil.which("initdb")
    if initdb is None:
        raise FileNotFoundError(
            "PostgreSQL is not installed (apt-get install postgresql), "
            'or run the tests with -m "not postgres".'
        )
    return Path(initdb).resolve().parent


def _scratch_dir() -> str | None:
    """/dev/shm if this machine has it (a tmpfs), else the usual temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"Database name {name!r} is not a plain identifier.")
    return name


class PostgresServer(ServerUnderTest):
    """One PostgreSQL server owning a temporary folder; ``close()`` removes both."""

    user = "postgres"

    def __init__(self) -> None:
        self._bin = find_bin_dir()
        self._as_root = os.geteuid() == 0
        # Not pytest's tmp_path: its parents are private to root and the server user must
        # be able to reach its own data folder.
        # In memory where there is a tmpfs: a database per test is then created in 40 ms
        # instead of 300, and the server is thrown away anyway.
        self.root = Path(tempfile.mkdtemp(prefix="callrec-pg-", dir=_scratch_dir()))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "postgres.log"
        self.port = free_port()
        self.running = False
        self._initialised = False

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL of one database on this server."""
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster on first use, then start the server and wait until it accepts."""
        if not self._initialised:
            self._initdb()
        self._run(
            self._bin / "pg_ctl", "start", "--wait", "--timeout=30",
            "-D", self.data_dir, "-l", self.log_file,
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop the server at once: open sessions are cut off, as in a real outage."""
        if self.running:
            self._run(self._bin / "pg_ctl", "stop", "--wait", "-m", "fast", "-D", self.data_dir)
            self.running = False

    def restart(self) -> None:
        """Stop and start again on the same port, keeping the data."""
        self.stop()
        self.start()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database, empty or as a copy of ``template``, and return its URL."""
        copy = ""
        if template:
            # FILE_COPY (PostgreSQL 15+) copies a small database faster than logging it.
            strategy = " STRATEGY FILE_COPY" if self.version >= 15 else ""
            copy = f" TEMPLATE {_identifier(template)}{strategy}"
        self._sql(f"CREATE DATABASE {_identifier(name)}{copy}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, cutting off whoever is still connected to it."""
        force = " WITH (FORCE)" if self.version >= 13 else ""
        self._sql(f"DROP DATABASE IF EXISTS {_identifier(name)}{force}")

    @property
    def version(self) -> int:
        """The server's major version, from the folder of its binaries."""
        major = self._bin.parent.name
        return int(major) if major.isdigit() else 0

    def _sql(self, statement: str) -> None:
        self._run(self._bin / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-U", self.user, "-d", "postgres",
            "-c", statement,
        )  # fmt: skip

    def _initdb(self) -> None:
        self.socket_dir.mkdir()
        if self._as_root:
            for path in (self.root, self.socket_dir):
                shutil.chown(path, _OWNER, _OWNER)
        self._run(
            self._bin / "initdb", "--no-sync", "--auth=trust", "--encoding=UTF8",
            "--locale=C", "-U", self.user, "-D", self.data_dir,
        )  # fmt: skip
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(_SETTINGS.format(port=self.port, socket_dir=self.socket_dir))
        self._initialised = True

    def _run(self, *command: str | Path) -> None:
        argv = [str(part) for part in command]
        program = Path(argv[0]).name
        if self._as_root:
            argv = ["runuser", "-u", _OWNER, "--", *argv]
        result = subprocess.run(
            argv, capture_output=True, text=True, check=False, cwd=self.root, timeout=60
        )
        if result.returncode != 0:
            output = result.stderr.strip() or result.stdout.strip()
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise RuntimeError(f"{program} failed ({result.returncode}): {output}\n{log}")
