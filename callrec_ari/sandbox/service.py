"""``callrec run`` as a separate process on the sandbox: for tests that kill it, and benchmarks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import tomli_w

from callrec_ari.errors import SandboxError


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServiceProcess:
    """``callrec migrate`` then ``callrec run -c <written config>``; stopped with SIGTERM."""

    def __init__(self, config: Mapping[str, Any], workdir: Path) -> None:
        service = {**config.get("service", {}), "host": "127.0.0.1", "port": free_port()}
        self.config = {**config, "service": service}
        self.workdir = workdir
        self.config_path = workdir / "callrec.toml"
        self.log_path = workdir / "service.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database_url(self) -> str:
        """The service's database."""
        url: str = self.config["database"]["url"]
        return url

    @property
    def health_url(self) -> str:
        """The service's ``GET /healthz``."""
        service = self.config["service"]
        return f"http://{service['host']}:{service['port']}/healthz"

    def migrate(self) -> None:
        """Write the config and bring the database schema up to date."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(tomli_w.dumps(self.config), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "callrec_ari", "migrate", "-c", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise SandboxError(f"callrec migrate failed: {result.stderr.strip()}")

    def start(self, timeout: float = 30.0) -> None:
        """Start the service (after ``migrate``) and wait until it is connected to ARI."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callrec_ari", "run", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session, as under systemd or in a container (its own cgroup): the
                # kernel then shares CPU between it and Asterisk as in production, instead
                # of between it and whatever started it (the benchmark's callers).
                start_new_session=True,
            )
        self._wait(lambda health: bool(health.get("ari_connected")), timeout, "connect to ARI")

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Wait until an earlier run's calls are adopted, none is in progress, every row is
        written and (with encryption on) every recording sealed."""
        self._wait(
            lambda h: (
                h.get("calls_reconciled") is True
                and h.get("calls_in_progress") == 0
                and h.get("rows_pending") == 0
                and not h.get("recordings_to_seal")
            ),
            timeout,
            "finish its calls",
        )

    def health(self) -> dict[str, Any]:
        """``GET /healthz`` (answered with 503 while ARI is down); {} if unreachable."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:  # noqa: S310
                body: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return {}
        return body

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """SIGTERM, as a service manager would stop it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait(self, done: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise SandboxError(f"callrec run exited; see {self.log_path}.")
            if done(self.health()):
                return
            time.sleep(0.1)
        raise SandboxError(f"callrec did not {what} within {timeout:.0f} s; see {self.log_path}.")

    def __enter__(self) -> Self:
        self.migrate()
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
