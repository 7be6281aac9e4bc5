"""The prompts callers hear, per language: what is installed, and uploading a replacement.

An upload (WAV, MP3 or OGG) is converted and checked by the prompts pipeline in a worker
thread first; only audio that passed replaces the installed file, in one step, in the same
transaction as its ``prompt.replace`` audit entry. A refused upload changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from aiohttp.web_request import FileField

from callrec_ari.audit import trail
from callrec_ari.config import Settings
from callrec_ari.errors import InputError, PromptError
from callrec_ari.prompts.build import DECLINE_HINT
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.prompts.layout import SOUNDS_FOLDER
from callrec_ari.prompts.upload import MAX_SECONDS, convert_upload, install_upload
from callrec_ari.web.admin import administrator, route_languages
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import client_of, failure, page

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Installed:
    """One prompt as Asterisk finds it: its length, or why it would not play."""

    language: str
    name: str
    seconds: float | None  # None: missing or not playable
    problem: str | None  # "missing" or "unplayable"
    changed_at: datetime | None


def prompt_names(settings: Settings) -> list[str]:
    """The prompts this configuration plays: announcements first, then the consent prompts."""
    announcements = {settings.default_route.prompt} | {
        route.prompt for route in settings.routes.values()
    }
    others = [settings.consent.decline_prompt, settings.consent.not_recorded_prompt]
    if settings.consent.decline_key is not None:
        others.insert(0, DECLINE_HINT)
    return [*sorted(announcements), *(name for name in others if name not in announcements)]


def _installed_path(settings: Settings, language: str, name: str) -> Path:
    return settings.prompts.sounds_dir / language / SOUNDS_FOLDER / f"{name}.wav"


def _inspect(settings: Settings) -> list[Installed]:
    found = []
    for language in route_languages(settings):
        for name in prompt_names(settings):
            path = _installed_path(settings, language, name)
            seconds: float | None = None
            problem: str | None = None
            changed_at = None
            try:
                changed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                seconds = prompt_duration(path)
            except FileNotFoundError:
                problem = "missing"
            except (OSError, PromptError):
                problem = "unplayable"
            found.append(
                Installed(
                    language=language,
                    name=name,
                    seconds=seconds,
                    problem=problem,
                    changed_at=changed_at,
                )
            )
    return found


def _json(prompt: Installed) -> dict[str, Any]:
    return {
        "language": prompt.language,
        "prompt": prompt.name,
        "duration_seconds": None if prompt.seconds is None else round(prompt.seconds, 2),
        "problem": prompt.problem,
        "changed_at": prompt.changed_at.isoformat() if prompt.changed_at else None,
    }


async def _prompts_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.Response:
    settings = request.app[SETTINGS]
    return await page(
        request,
        "admin_prompts.html",
        {
            "prompts": await asyncio.to_thread(_inspect, settings),
            "prompt_languages": route_languages(settings),
            "names": prompt_names(settings),
            "max_seconds": int(MAX_SECONDS),
            "error": error,
        },
        status=status,
    )


@routes.get("/admin/prompts")
async def prompts_page(request: web.Request) -> web.StreamResponse:
    """The installed prompts per language, and the upload form."""
    administrator(request)
    return await _prompts_page(request)


@routes.get("/api/admin/prompts")
async def prompts_api(request: web.Request) -> web.StreamResponse:
    """The installed prompts as JSON."""
    administrator(request)
    found = await asyncio.to_thread(_inspect, request.app[SETTINGS])
    return web.json_response({"prompts": [_json(prompt) for prompt in found]})


async def _replace(request: web.Request) -> Installed:
    admin = administrator(request)
    settings = request.app[SETTINGS]
    form = await request.post()
    language, name, upload = form.get("language"), form.get("prompt"), form.get("file")
    if not isinstance(language, str) or language not in route_languages(settings):
        raise InputError("The language is not one the routes in the configuration use.")
    if not isinstance(name, str) or name not in prompt_names(settings):
        raise InputError("The prompt is not one the configuration plays.")
    if not isinstance(upload, FileField):
        raise InputError("Choose an audio file to upload.")
    label = f"{language}/{name}"
    try:
        converted = await asyncio.to_thread(convert_upload, upload.file, label=label)
    except PromptError as exc:
        raise InputError(str(exc)) from None
    target = _installed_path(settings, language, name)
    try:
        previous = await asyncio.to_thread(prompt_duration, target)
    except PromptError:
        previous = None  # none installed yet, or one Asterisk could not play
    now = request.app[CLOCK]()
    async with request.app[SESSIONS]() as db, db.begin():
        # Audited first, which also makes two admins' uploads wait for each other; the files
        # are written inside the transaction, so a failed write leaves no entry behind.
        await trail.append(
            db,
            at=now,
            actor=admin.username,
            action="prompt.replace",
            target=f"prompt:{label}",
            detail={
                "format": converted.kind,
                "seconds": round(converted.seconds, 2),
                "previous_seconds": None if previous is None else round(previous, 2),
                "sha256": converted.sha256,
            },
            client=client_of(request),
        )
        try:
            removed = await asyncio.to_thread(
                install_upload,
                converted,
                source_dir=settings.prompts.source_dir,
                sounds_dir=settings.prompts.sounds_dir,
                language=language,
                name=name,
                asterisk_root=settings.prompts.asterisk_root,
            )
        except PromptError as exc:
            raise InputError(str(exc)) from None
    if removed:
        log.info("prompt.studio_replaced", prompt=label, removed=removed)
    return Installed(
        language=language, name=name, seconds=converted.seconds, problem=None, changed_at=now
    )


@routes.post("/admin/prompts")
async def replace_form(request: web.Request) -> web.StreamResponse:
    """Replace one prompt with an uploaded recording; a refusal is shown on the page."""
    administrator(request)
    try:
        await _replace(request)
    except InputError as exc:
        return await _prompts_page(request, error=str(exc), status=400)
    raise web.HTTPSeeOther("/admin/prompts")


@routes.post("/api/admin/prompts")
async def replace_api(request: web.Request) -> web.StreamResponse:
    """Replace one prompt (multipart: language, prompt, file), as JSON."""
    administrator(request)
    try:
        installed = await _replace(request)
    except InputError as exc:
        raise failure(request, exc) from None
    return web.json_response(_json(installed), status=201)
