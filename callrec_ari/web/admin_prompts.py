"""The prompts callers hear, per language: what is installed, and uploading a replacement.

The languages and prompts listed, and accepted for an upload, are those of the routes in
force (the admin's run-time routes included). The replacement itself is
``prompts.replace.replace_prompt``, which ``callrec prompts replace`` calls too: a refused
upload changes nothing and is shown on the page (or answered 400 by the API).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from callrec_ari.errors import InputError
from callrec_ari.prompts.catalog import (
    Installed,
    inspect_installed,
    prompt_names,
    route_languages,
)
from callrec_ari.prompts.replace import replace_prompt
from callrec_ari.prompts.upload import MAX_SECONDS
from callrec_ari.web.admin import administrator, current_settings
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import client_of, done, is_api, page

routes = web.RouteTableDef()


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
    settings = await current_settings(request)
    return await page(
        request,
        "admin_prompts.html",
        {
            "prompts": await asyncio.to_thread(inspect_installed, settings),
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
    found = await asyncio.to_thread(inspect_installed, await current_settings(request))
    return web.json_response({"prompts": [_json(prompt) for prompt in found]})


@routes.post("/admin/prompts")
@routes.post("/api/admin/prompts")
async def replace(request: web.Request) -> web.StreamResponse:
    """Replace one prompt with an uploaded recording (multipart: language, prompt, file);
    a refusal is shown on the page."""
    admin = administrator(request)
    form = await request.post()
    language, name, upload = form.get("language"), form.get("prompt"), form.get("file")
    now = request.app[CLOCK]()
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            replaced = await replace_prompt(
                db,
                settings=request.app[SETTINGS],
                actor=admin.actor,
                language=language if isinstance(language, str) else "",
                name=name if isinstance(name, str) else "",
                upload=upload.file if isinstance(upload, FileField) else None,
                now=now,
                client=client_of(request),
            )
    except InputError as exc:
        if is_api(request):
            raise
        return await _prompts_page(request, error=str(exc), status=400)
    installed = Installed(
        language=replaced.language,
        name=replaced.name,
        seconds=replaced.seconds,
        problem=None,
        changed_at=now,
    )
    return done(request, to="/admin/prompts", body=_json(installed), status=201)
