"""``callrec health`` and ``callrec-health``: ask the running service's ``GET /healthz``,
for a container's HEALTHCHECK or a monitoring script.

Exit status 0 when the service answers 200 (ARI connected, no background task failing),
1 with one sentence saying what is wrong otherwise. The address comes from ``[service]``;
a wildcard host (``0.0.0.0``, ``::``) is asked on loopback. ``callrec-health`` does the same
without loading the whole command line (0.5 s instead of 2 to 5 s to start): what a
HEALTHCHECK with a timeout should run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callrec_ari.cli import CommandLine
from callrec_ari.config import ServiceSettings, load
from callrec_ari.errors import ConfigError

ENV_CONFIG = "CALLREC_CONFIG"  # the config file when -c is not given
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - compared, not bound


def health_url(service: ServiceSettings) -> str:
    """The URL of ``/healthz`` as a client on this machine reaches it."""
    host = _WILDCARDS.get(service.host, service.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{service.port}/healthz"


def ask(url: str, *, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """``GET url``: the status and the decoded body; ``OSError`` if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http only
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def verdict(status: int, body: dict[str, Any]) -> str:
    """One line on what ``/healthz`` said."""
    if status == 200:
        return f"healthy: ARI connected, {body.get('calls_in_progress', 0)} calls in progress"
    problems = []
    if not body.get("ari_connected", False):
        problems.append("Asterisk's ARI is not connected")
    if body.get("application_replaced"):
        problems.append("another process took over the Stasis application")
    failing = body.get("tasks_failing") or []
    if failing:
        problems.append(f"failing: {', '.join(map(str, failing))}")
    return f"unhealthy ({status}): {'; '.join(problems) or 'see /healthz'}"


def add_commands(cli: CommandLine) -> None:
    """Add ``health``."""
    parser = cli.add(
        "health",
        lambda args: _health(cli, args),
        "Ask the running service's /healthz ([service] host and port); exit status 0 if healthy.",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")


def main(argv: Sequence[str] | None = None) -> int:
    """``callrec-health [-c CONFIG] [--timeout S]``: the exit status of ``callrec health``."""
    parser = argparse.ArgumentParser(prog="callrec-health", description=__doc__)
    parser.add_argument(
        "-c", "--config", type=Path, default=Path(os.environ.get(ENV_CONFIG) or "config.toml")
    )
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        service = load(args.config, os.environ).service
    except ConfigError as exc:
        sys.stderr.write(f"callrec: {exc}\n")
        return 2
    return report(service, timeout=args.timeout)


def _health(cli: CommandLine, args: argparse.Namespace) -> int:
    return report(cli.load_settings(args).service, timeout=args.timeout)


def report(service: ServiceSettings, *, timeout: float) -> int:
    """Ask ``service``'s /healthz and print one line; the exit status."""
    url = health_url(service)
    try:
        status, body = ask(url, timeout=timeout)
    except (OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        sys.stderr.write(f"callrec: nothing healthy answers {url} ({reason}).\n")
        return 1
    line = verdict(status, body)
    (sys.stdout if status == 200 else sys.stderr).write(line + "\n")
    return 0 if status == 200 else 1
