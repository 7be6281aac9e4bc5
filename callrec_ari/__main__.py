"""The ``callrec`` command: argv -> config -> logging -> the job asked for.

This is the only place that reads the process environment; everything below it receives a
``Settings`` object.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from callrec_ari import health
from callrec_ari import log as logging_setup
from callrec_ari.audit import commands as audit_commands
from callrec_ari.calls import commands as call_commands
from callrec_ari.cli import CommandLine, Operator
from callrec_ari.config import Settings, parse, read
from callrec_ari.crypto import commands as key_commands
from callrec_ari.db import migrate, schema
from callrec_ari.db.session import database_failure
from callrec_ari.errors import CallrecError, ConfigError
from callrec_ari.evidence import commands as evidence_commands
from callrec_ari.lifecycle import commands as lifecycle_commands
from callrec_ari.profile import commands as profile_commands
from callrec_ari.prompts import cli as prompt_commands
from callrec_ari.rights import commands as rights_commands
from callrec_ari.sandbox import commands as sandbox_commands
from callrec_ari.serve import Site, probe, serve
from callrec_ari.staff import commands as staff_commands
from callrec_ari.state_dirs import prepare_state_folders
from callrec_ari.storage import commands as storage_commands
from callrec_ari.training import commands as training_commands

ENV_SANDBOX_CACHE = "CALLREC_SANDBOX_CACHE"
ENV_SANDBOX_SLOT = "CALLREC_SANDBOX_SLOT"  # which sandbox instance; 0, the default, is yours
DEFAULT_SANDBOX_CACHE = Path("/var/cache/callrec")
ENV_SUDO_USER = "SUDO_USER"  # set by sudo: the person behind a command run as root
ENV_CONFIG = health.ENV_CONFIG  # the config file when -c is not given
DEFAULT_CONFIG = "config.toml"
PROJECT_CONFIG = Path(__file__).resolve().parents[1] / "config.example.toml"

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], datetime] | None = None) -> int:
    """Run one ``callrec`` command; return the process exit status.

    ``clock`` replaces the wall clock (UTC) for commands that act on dates.
    """
    parser = _parser(clock or _utc_now)
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CallrecError as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except SQLAlchemyError as exc:
        # A safety net: the service layer names the database where it can; this says at
        # least which one, without a traceback.
        print(f"callrec: {database_failure(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"callrec: the system refused{where}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one sentence, and a file
        report = _crash_report(exc)
        print(
            f"callrec: unexpected error ({type(exc).__name__}: {exc}); this is a bug, "
            f"the details are in {report}.",
            file=sys.stderr,
        )
        return 70


def _crash_report(exc: Exception) -> str:
    """Write the traceback to a file of its own, for a bug report; its path."""
    descriptor, path = tempfile.mkstemp(prefix="callrec-error-", suffix=".txt")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        traceback.print_exception(exc, file=handle)
    return path


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _parser(clock: Callable[[], datetime]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callrec", description="Consent-gated, GDPR-compliant call recording beside Asterisk."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Any:
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "-c",
            "--config",
            type=Path,
            default=Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG),
            help=f"the TOML config file (default: ${ENV_CONFIG}, else {DEFAULT_CONFIG})",
        )
        cmd.set_defaults(handler=handler)
        return cmd

    run = command(
        "run",
        _run,
        "Run the call service (ARI consent flow, database writer, /healthz, /metrics) and the "
        "staff web app.",
    )
    run.add_argument("--no-web", action="store_true", help="the call service only")
    run.add_argument(
        "--migrate",
        action="store_true",
        help="bring the database schema up to date first (the container image's default)",
    )
    command("web", _web, "Run the staff web app alone.")
    command("migrate", _migrate, "Bring the database schema up to date.")
    operator = _operator()
    cli = CommandLine(
        add=command,
        load_settings=_settings,
        default_actor=operator.os_user,
        clock=clock,
        operator=operator,
    )
    call_commands.add_commands(cli)
    prompt_commands.add_commands(cli)
    lifecycle_commands.add_commands(cli)
    rights_commands.add_commands(cli)
    staff_commands.add_commands(cli)
    audit_commands.add_commands(cli)
    profile_commands.add_commands(cli)
    evidence_commands.add_commands(cli)
    training_commands.add_commands(cli)
    health.add_commands(cli)
    key_commands.add_commands(cli)
    storage_commands.add_commands(cli)
    sandbox_commands.add_commands(
        sub,
        sandbox_cache=_sandbox_cache,
        sandbox_slot=_sandbox_slot,
        load_settings=_settings,
        default_config=Path(os.environ.get(ENV_CONFIG) or PROJECT_CONFIG),
    )
    return parser


def _actor() -> str:
    """Who runs the command, for the records of holds, erasures and requests."""
    try:
        return getpass.getuser()
    except OSError:  # no user name in the environment or the password database
        return f"uid-{os.getuid()}"


def _operator() -> Operator:
    """The operating-system user running the command and, under ``sudo``, who called it."""
    return Operator(os_user=_actor(), sudo_user=os.environ.get(ENV_SUDO_USER) or None)


def _sandbox_cache() -> Path:
    return Path(os.environ.get(ENV_SANDBOX_CACHE) or DEFAULT_SANDBOX_CACHE)


def _sandbox_slot() -> int:
    text = os.environ.get(ENV_SANDBOX_SLOT) or "0"
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{ENV_SANDBOX_SLOT}={text[:20]!r} is not a slot number.") from None


def _settings(
    args: argparse.Namespace, adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None
) -> Settings:
    """The settings from ``--config`` (first changed by ``adapt``); logging is set up from them."""
    config: Path = args.config
    if not config.exists() and config == Path(DEFAULT_CONFIG):
        raise ConfigError(
            "Config file config.toml does not exist: copy config.example.toml to config.toml "
            "and adapt it, or pass --config."
        )
    data = read(config)
    if adapt is not None:
        data = adapt(data)
    settings = parse(data, os.environ, base_dir=config.resolve().parent)
    logging_setup.configure(settings.log)
    return settings


def _state_settings(args: argparse.Namespace) -> Settings:
    """The settings of a command that writes state, its folders made (or one sentence)."""
    settings = _settings(args)
    config: Path = args.config
    prepare_state_folders(settings, config_dir=config.resolve().parent)
    return settings


def resolved_paths(settings: Settings) -> dict[str, str]:
    """Every file and folder the service uses, relative paths resolved against the config
    file's folder, so a surprising location shows at start-up."""
    from callrec_ari.prompts.versions import ARCHIVE_FOLDER  # noqa: PLC0415 - the prompts package

    return {
        "recordings": str(settings.recording.service_dir),
        "recordings_for_asterisk": str(settings.recording.asterisk_dir),
        "database": migrate.safe_url(settings.database.url),
        "journal": str(settings.database.journal_dir),
        "register": str(settings.dialplan.register_file),
        "prompts": str(settings.prompts.source_dir),
        "sounds": str(settings.prompts.sounds_dir),
        "asterisk_root": str(settings.prompts.asterisk_root),
        "web_secret_key": str(settings.web.secret_key_file),
        "audit_witness_key": str(settings.audit.witness_key_file),
        "audit_witness_file": str(settings.audit.witness_file),
        "prompt_versions": str(settings.database.journal_dir / ARCHIVE_FOLDER),
        "training_copies": str(settings.training.dir),
    }


def log_paths(settings: Settings) -> None:
    """One log line with the resolved paths (``callrec run`` and ``callrec web``)."""
    log.info("config.paths", **resolved_paths(settings))


def _run(args: argparse.Namespace) -> int:
    # The servers' modules load only for the commands that serve: every other command
    # starts about 0.3 s sooner (of 2.3 s).
    from callrec_ari.app import build_app  # noqa: PLC0415

    settings = _state_settings(args)
    if args.migrate:
        schema.upgrade_at_start(settings.database.url)
    schema.check(settings.database.url)
    sites = [
        Site(
            name="calls",
            app=build_app(settings),
            host=settings.service.host,
            port=settings.service.port,
            config_table="[service]",
        )
    ]
    if not args.no_web:
        sites.append(_web_site(settings))
    return _serve(settings, sites)


def _web(args: argparse.Namespace) -> int:
    settings = _state_settings(args)
    schema.check(settings.database.url)
    return _serve(settings, [_web_site(settings)])


def _serve(settings: Settings, sites: list[Site]) -> int:
    for site in sites:
        probe(site)  # a port in use is one sentence, before anything starts or logs
    log_paths(settings)
    asyncio.run(serve(sites, freeze_heap=True))
    return 0


def _web_site(settings: Settings) -> Site:
    from callrec_ari.web.app import build_web_app, tls_context  # noqa: PLC0415 - as in _run

    return Site(
        name="web",
        app=build_web_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        ssl_context=tls_context(settings),
        config_table="[web]",
    )


def _migrate(args: argparse.Namespace) -> int:
    settings = _state_settings(args)
    schema.upgrade(settings.database.url)
    print(f"database at revision {migrate.current_revision(settings.database.url)}")
    for name, path in resolved_paths(settings).items():
        print(f"{name:>24}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
