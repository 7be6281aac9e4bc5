"""Replacing one prompt with an uploaded recording: checked, converted, audited, installed.

The admin's prompts page and ``callrec prompts replace`` both call ``replace_prompt``. The
language and the prompt must be ones the configuration in force plays: the config file with
the admin's run-time routes applied, so a language an admin added to a route can get its
prompt. The upload is decoded, converted and checked by the prompts pipeline (in a worker
thread) before anything is written; only audio that passed replaces the installed file, in
one step, inside the caller's transaction and after its ``prompt.replace`` audit entry: a
refused upload changes nothing, and a failed write leaves no entry once rolled back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_administer
from callrec_ari.audit import trail
from callrec_ari.config import Settings
from callrec_ari.errors import ForbiddenError, InputError, PromptError
from callrec_ari.prompts.catalog import installed_path, prompt_names, route_languages
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.prompts.upload import convert_upload, install_upload
from callrec_ari.prompts.version_store import sync_versions
from callrec_ari.routing import store as routing

__all__ = ["Replaced", "replace_prompt"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Replaced:
    """A prompt replaced: its new length, the length of the one it replaced, and the
    studio recordings in other formats it removed."""

    language: str
    name: str
    seconds: float
    previous_seconds: float | None  # None: none was installed, or it would not play
    kind: str  # what was uploaded: wav, mp3 or ogg
    removed: list[str]


async def replace_prompt(
    session: AsyncSession,
    *,
    settings: Settings,
    actor: Actor,
    language: str,
    name: str,
    upload: IO[bytes] | None,
    now: datetime,
    client: str | None = None,
) -> Replaced:
    """Replace ``language``'s prompt ``name`` with ``upload`` (WAV, MP3 or OGG).

    ``settings`` are the config file's: the admin's routes are applied here. ``ForbiddenError``
    unless ``actor`` is an admin; ``InputError`` for a language or prompt the routes do not
    play, no file, or audio that fails a check (the sentence says which).
    """
    if not may_administer(actor):
        raise ForbiddenError(f"{actor.described} may not replace prompts.")
    in_force = await routing.effective(session, settings)
    languages = route_languages(in_force)
    if language not in languages:
        raise InputError(
            f"Language {language[:20]!r} is not one the routes play ({', '.join(languages)})."
        )
    if name not in prompt_names(in_force):
        raise InputError(f"Prompt {name[:40]!r} is not one the configuration plays.")
    if upload is None:
        raise InputError("Choose an audio file to upload.")
    label = f"{language}/{name}"
    try:
        converted = await asyncio.to_thread(convert_upload, upload, label=label)
    except PromptError as exc:
        raise InputError(str(exc)) from None
    target = installed_path(in_force, language, name)
    try:
        previous: float | None = await asyncio.to_thread(prompt_duration, target)
    except PromptError:
        previous = None  # none installed yet, or one Asterisk could not play
    # Audited first, which also makes two admins' uploads wait for each other; the files
    # are written inside the transaction, so a failed write leaves no entry behind.
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="prompt.replace",
        target=f"prompt:{label}",
        detail={
            "format": converted.kind,
            "seconds": round(converted.seconds, 2),
            "previous_seconds": None if previous is None else round(previous, 2),
            "sha256": converted.sha256,
        },
        client=client,
    )
    try:
        removed = await asyncio.to_thread(
            install_upload,
            converted,
            source_dir=in_force.prompts.source_dir,
            sounds_dir=in_force.prompts.sounds_dir,
            language=language,
            name=name,
            asterisk_root=in_force.prompts.asterisk_root,
        )
    except PromptError as exc:
        raise InputError(str(exc)) from None
    if removed:
        log.info("prompt.studio_replaced", prompt=label, removed=removed)
    # The new audio becomes a version (audited) in this transaction; the old one's audio stays.
    await sync_versions(
        session, settings, now=now, actor=actor.name, source="replace", client=client
    )
    return Replaced(
        language=language,
        name=name,
        seconds=converted.seconds,
        previous_seconds=previous,
        kind=converted.kind,
        removed=removed,
    )
