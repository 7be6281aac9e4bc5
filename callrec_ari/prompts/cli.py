"""``callrec prompts``: build prompt WAVs from text or studio takes, install them where
Asterisk reads them (recording each install as a new version), check their length, or replace
one with a recording, as the admin's prompts page does.

Building, installing and replacing need ffmpeg (pydub): those modules load only when asked.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from callrec_ari.access import Actor, Role
from callrec_ari.cli import CommandLine, Operator
from callrec_ari.config import Settings
from callrec_ari.db.session import run_command
from callrec_ari.errors import DatabaseError, InputError


def add_commands(cli: CommandLine) -> None:
    """Add ``prompts`` and its actions to the ``callrec`` command line."""
    prompts = cli.add(
        "prompts",
        lambda args: _prompts(cli, args),
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


def _prompts(cli: CommandLine, args: argparse.Namespace) -> int:
    from callrec_ari.prompts.build import build_prompts  # noqa: PLC0415 - needs ffmpeg only here
    from callrec_ari.prompts.install import install_prompts  # noqa: PLC0415
    from callrec_ari.prompts.layout import (  # noqa: PLC0415
        SOUNDS_FOLDER,
        language_folders,
        sound_folder,
    )

    settings = cli.load_settings(args)
    operator = cli.operator
    source = settings.prompts.source_dir
    if args.action == "replace":
        return _replace_prompt(args, settings, now=cli.clock(), operator=operator)
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
            _out(f"{built.language}/{built.name}.wav  {seconds}  ({built.source})")
    else:
        prompts = settings.prompts
        installed = install_prompts(
            source, prompts.sounds_dir, languages=args.lang, asterisk_root=prompts.asterisk_root
        )
        for path in installed:
            _out(path)
        _version_installed(settings, now=cli.clock(), operator=operator)
        for folder in language_folders(source, args.lang):
            lexical = prompts.sounds_dir / folder.name / SOUNDS_FOLDER
            real = sound_folder(
                prompts.sounds_dir, folder.name, asterisk_root=prompts.asterisk_root
            )
            if real != lexical:
                # The files went where the link leads, which is what Asterisk reads: say so.
                _out(f"{lexical} is reached through a symbolic link: the prompts went to {real}")
    return 0


def _version_installed(settings: Settings, *, now: datetime, operator: Operator) -> None:
    """Record the installed prompts' new audio as versions, audited as the operator's."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    from callrec_ari.prompts.version_store import sync_versions  # noqa: PLC0415

    later = "the service records them when it starts"
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        # A new server installs prompts before it has a database: nothing to record into yet.
        _err(f"callrec: no database yet at {url.database}; {later}.")
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
        _err(
            f"callrec: the prompts are installed but not yet recorded as versions ({exc}); {later}."
        )
        return
    for (name, language), current in sorted(versions.items()):
        _out(f"{language}/{name}: version {current.version} (sha256 {current.sha256})")


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
    _out(
        f"{replaced.language}/{replaced.name}.wav replaced: {replaced.seconds:.1f} s "
        f"from {replaced.kind.upper()}"
    )
    return 0


def _out(line: object) -> None:
    sys.stdout.write(f"{line}\n")


def _err(line: str) -> None:
    sys.stderr.write(f"{line}\n")
