"""callrec as a separate process (``callrec run``) on the sandbox, as it runs in production.

The config is the project's example with only what the sandbox needs changed: the same keys
``callrec_ari.sandbox.session.service_settings`` replaces, a SQLite file, a free port, and the
benchmark's route.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import tomli_w

from callrec_ari.db import lookup
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.session import PROJECT_DIR


def service_config(
    asterisk: AsteriskSandbox, workdir: Path, *, prompts_dir: Path, prompt: str, language: str
) -> dict[str, Any]:
    """The example config as TOML data, pointed at the sandbox, with one route for every DID."""
    data: dict[str, Any] = tomllib.loads(
        (PROJECT_DIR / "config.example.toml").read_text(encoding="utf-8")
    )
    sandbox = asterisk.settings
    data["ari"].update(
        url=sandbox.ari_url,
        username=sandbox.ari_user,
        password=sandbox.ari_password,
        app=sandbox.ari_app,
    )
    data["recording"].update(
        asterisk_dir=str(asterisk.recordings_asterisk_dir),
        service_dir=str(asterisk.recordings_service_dir),
    )
    data["prompts"] = {"source_dir": str(prompts_dir), "sounds_dir": str(asterisk.host_sounds_dir)}
    data["database"]["url"] = f"sqlite+aiosqlite:///{workdir / 'callrec.sqlite3'}"
    data["consent"]["decline_key"] = ""  # no decline hint: the caller hears only the prompt
    data["default_route"].update(prompt=prompt, languages=[language])
    data["service"].update(host="127.0.0.1", port=free_port())
    data["log"].update(format="json", level="info")
    return data


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServiceProcess:
    """``callrec migrate`` then ``callrec run -c <generated toml>``; stopped with SIGTERM."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config = config
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

    def start(self, timeout: float = 30.0) -> None:
        """Write the config, migrate the database, start the service, wait for ARI."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(tomli_w.dumps(self.config), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "callrec_ari", "migrate", "-c", str(self.config_path)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callrec_ari", "run", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait(lambda health: bool(health.get("ari_connected")), timeout, "connect to ARI")

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Wait until no call is in progress and every row is written; False on timeout."""
        try:
            self._wait(
                lambda h: h.get("calls_in_progress") == 0 and h.get("rows_pending") == 0,
                timeout,
                "finish its calls",
            )
        except TimeoutError:
            return False
        return True

    def health(self) -> dict[str, Any]:
        """``GET /healthz`` (also answered with 503 while ARI is down); {} if unreachable."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:  # noqa: S310
                body: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return {}
        return body

    def records(self, limit: int = 100_000) -> list[CallRecord]:
        """Every call row the service stored (newest first)."""
        return asyncio.run(lookup.latest(self.database_url, limit))

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
                raise RuntimeError(f"callrec run exited; see {self.log_path}")
            if done(self.health()):
                return
            time.sleep(0.1)
        raise TimeoutError(f"callrec did not {what} within {timeout:.0f} s; see {self.log_path}")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


RECORDED = f"{Consent.GIVEN}/{RecordingStatus.COMPLETE}"


def outcomes(records: list[CallRecord], prefix: str) -> dict[str, int]:
    """How the calls from numbers starting with ``prefix`` ended: ``consent/recording`` counts."""
    counts = Counter(
        f"{record.consent}/{record.recording_status}"
        for record in records
        if (record.caller_number or "").startswith(prefix)
    )
    return dict(counts.most_common())
