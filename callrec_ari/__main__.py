"""The ``callrec`` command: argv -> config -> logging -> the job asked for.

This is the only place that reads the process environment; everything below it receives a
``Settings`` object.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import json
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
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari import health
from callrec_ari import log as logging_setup
from callrec_ari.access import Actor, Role
from callrec_ari.audit import commands as audit_commands
from callrec_ari.cli import CommandLine, Operator
from callrec_ari.cli_audit import record_read
from callrec_ari.config import Settings, parse, read
from callrec_ari.crypto import commands as key_commands
from callrec_ari.db import migrate, schema
from callrec_ari.db.repository import latest_calls
from callrec_ari.db.session import database_failure, run_command
from callrec_ari.errors import CallrecError, ConfigError, DatabaseError, InputError
from callrec_ari.evidence import commands as evidence_commands
from callrec_ari.lifecycle import commands as lifecycle_commands
from callrec_ari.profile import commands as profile_commands
from callrec_ari.records import CallRecord
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
    calls = command(
        "calls",
        functools.partial(_calls, clock=clock, operator=operator),
        "Print the latest call rows (recorded in the audit trail).",
    )
    calls.add_argument("--limit", type=int, default=10)
    calls.add_argument("--json", action="store_true", help="one JSON object per line")
    prompts = command(
        "prompts",
        functools.partial(_prompts, clock=clock, operator=operator),
        "Build prompt WAVs from text or studio recordings, install them, or replace one "
        "with a recording (as the admin's prompts page does).",
    )
    prompts.add_argument("action", choices=["build", "install", "replace", "check"])
    prompts.add_argument(
        "--as-written",
        action="store_true",
        help="build: speak the texts as they are, without composing them from the profile",
    )
    prompts.add_argument(
        "--live",
        action="store_true",
        help="build, check: the routes in force (the admin's run-time changes, from the database)",
    )
    prompts.add_argument("--lang", action="append", help="only this language (repeatable)")
    prompts.add_argument("--prompt", metavar="NAME", help="replace: the prompt, e.g. announcement")
    prompts.add_argument("--file", type=Path, help="replace: the recording (WAV, MP3 or OGG)")
    cli = CommandLine(
        add=command,
        load_settings=_settings,
        default_actor=operator.os_user,
        clock=clock,
        operator=operator,
    )
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
    asyncio.run(serve(sites))
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


def _calls(args: argparse.Namespace, *, clock: Callable[[], datetime], operator: Operator) -> int:
    settings = _settings(args)
    now = clock()

    async def read(session: AsyncSession) -> list[CallRecord]:
        records = await latest_calls(session, args.limit)
        await record_read(
            session,
            actor=f"cli:{operator.os_user}",
            now=now,
            action="search",
            command="calls",
            asked={"limit": args.limit},
            results=len(records),
        )
        return records

    for record in run_command(settings.database.url, read, client=operator.client):
        print(json.dumps(record.to_json()) if args.json else format_record(record))
    return 0


def format_record(record: CallRecord) -> str:
    """A call row for a terminal, one field per line."""
    return "\n".join([*(f"{key:>18}: {value}" for key, value in record.to_json().items()), ""])


def _prompts(args: argparse.Namespace, *, clock: Callable[[], datetime], operator: Operator) -> int:
    from callrec_ari.prompts.build import build_prompts  # noqa: PLC0415 - needs ffmpeg only here
    from callrec_ari.prompts.install import install_prompts  # noqa: PLC0415
    from callrec_ari.prompts.layout import (  # noqa: PLC0415
        SOUNDS_FOLDER,
        language_folders,
        sound_folder,
    )

    settings = _settings(args)
    source = settings.prompts.source_dir
    if args.action == "replace":
        return _replace_prompt(args, settings, now=clock(), operator=operator)
    if args.action in {"build", "check"}:
        from callrec_ari.prompts import commands as prompt_commands  # noqa: PLC0415

        if args.live:
            settings = prompt_commands.live_settings(settings, client=operator.client)
        if args.action == "check":
            return prompt_commands.check(settings, languages=args.lang)
        if not args.as_written:
            prompt_commands.compose(settings, languages=args.lang)
        for built in build_prompts(
            source, decline_key=settings.consent.decline_key, languages=args.lang
        ):
            seconds = f"{built.duration_seconds:5.1f} s"
            print(f"{built.language}/{built.name}.wav  {seconds}  ({built.source})")
    else:
        prompts = settings.prompts
        installed = install_prompts(
            source, prompts.sounds_dir, languages=args.lang, asterisk_root=prompts.asterisk_root
        )
        for path in installed:
            print(path)
        _version_installed(settings, now=clock(), operator=operator)
        for folder in language_folders(source, args.lang):
            lexical = prompts.sounds_dir / folder.name / SOUNDS_FOLDER
            real = sound_folder(
                prompts.sounds_dir, folder.name, asterisk_root=prompts.asterisk_root
            )
            if real != lexical:
                # The files went where the link leads, which is what Asterisk reads: say so.
                print(f"{lexical} is reached through a symbolic link: the prompts went to {real}")
    return 0


def _version_installed(settings: Settings, *, now: datetime, operator: Operator) -> None:
    """Record the installed prompts' new audio as versions, audited as the operator's."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    from callrec_ari.prompts.version_store import sync_versions  # noqa: PLC0415

    later = "the service records them when it starts"
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        # A new server installs prompts before it has a database: nothing to record into yet.
        print(f"callrec: no database yet at {url.database}; {later}.", file=sys.stderr)
        return
    try:
        versions = run_command(
            settings.database.url,
            lambda session: sync_versions(
                session, settings, now=now, actor=f"cli:{operator.person}", source="install"
            ),
            client=operator.client,
        )
    except DatabaseError as exc:
        # Installing comes before the database on a new server; the service's prompt watcher
        # records the versions (as first seen) once it runs, so the install still counts.
        print(
            f"callrec: the prompts are installed but not yet recorded as versions ({exc}); "
            f"{later}.",
            file=sys.stderr,
        )
        return
    for (name, language), current in sorted(versions.items()):
        print(f"{language}/{name}: version {current.version} (sha256 {current.sha256})")


def _replace_prompt(
    args: argparse.Namespace, settings: Settings, *, now: datetime, operator: Operator
) -> int:
    """``callrec prompts replace --lang pl --prompt announcement --file take.mp3``, by the
    operator as an admin named ``cli:<login name>`` in the trail."""
    from callrec_ari.prompts.replace import replace_prompt  # noqa: PLC0415 - needs ffmpeg

    languages: list[str] = args.lang or []
    if len(languages) != 1 or not args.prompt or args.file is None:
        raise InputError("prompts replace needs one --lang, a --prompt and a --file.")
    path: Path = args.file
    try:
        upload = path.open("rb")
    except OSError as exc:
        raise InputError(f"Recording {path} cannot be read: {exc.strerror}.") from None
    with upload:
        replaced = run_command(
            settings.database.url,
            lambda session: replace_prompt(
                session,
                settings=settings,
                actor=Actor.of(f"cli:{operator.person}", Role.ADMIN),
                language=languages[0],
                name=args.prompt,
                upload=upload,
                now=now,
            ),
            client=operator.client,
        )
    print(
        f"{replaced.language}/{replaced.name}.wav replaced: {replaced.seconds:.1f} s "
        f"from {replaced.kind.upper()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
