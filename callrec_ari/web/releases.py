"""Releases to third parties (seed 000 §7.2): asked for on a call's page, decided by the
director, downloaded once by the person who asked, before the link expires.

The one-time token is sealed with the web app's key and kept on the release so the asker's
own page can offer the download; it is cleared when used. Someone reading the database
sees only the seal and the token's hash.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from callrec_ari.access import may_ask_any_release, may_decide_release
from callrec_ari.db.models import Release
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.releases import service
from callrec_ari.releases.service import ReleaseStatus, ReleaseView
from callrec_ari.web.keys import CLOCK, SEAL, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, failure, fields, page, signed_in

routes = web.RouteTableDef()


def _json(release: ReleaseView) -> dict[str, Any]:
    return {
        "id": release.id,
        "uniqueid": release.uniqueid,
        "recipient": release.recipient,
        "legal_ground": release.legal_ground,
        "requested_by": release.requested_by,
        "requested_at": release.requested_at.isoformat(),
        "status": str(release.status),
        "decided_by": release.decided_by,
        "decided_at": release.decided_at.isoformat() if release.decided_at else None,
        "decision_note": release.decision_note,
        "expires_at": release.expires_at.isoformat() if release.expires_at else None,
        "downloaded_at": release.downloaded_at.isoformat() if release.downloaded_at else None,
    }


async def _ask(request: web.Request) -> ReleaseView:
    account = allowed(request, may_ask_any_release)  # before the fields are looked at
    given = await fields(request)
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            return await service.request_release(
                db,
                actor=account.actor,
                uniqueid=request.match_info["uniqueid"],
                recipient=given.get("recipient", ""),
                legal_ground=given.get("legal_ground", ""),
                now=request.app[CLOCK](),
                client=client_of(request),
            )
    except (NotFoundError, ForbiddenError, InputError) as exc:
        raise failure(request, exc) from None


@routes.post("/calls/{uniqueid}/releases")
async def ask_form(request: web.Request) -> web.StreamResponse:
    """Ask the director to release this call's recording."""
    await _ask(request)
    raise web.HTTPSeeOther("/releases")


@routes.post("/api/calls/{uniqueid}/releases")
async def ask_api(request: web.Request) -> web.StreamResponse:
    """Ask for a release, as JSON."""
    return web.json_response(_json(await _ask(request)), status=201)


async def _list(request: web.Request) -> list[ReleaseView]:
    account = signed_in(request)
    raw = request.query.get("status") or None
    try:
        status = ReleaseStatus(raw) if raw else None
    except ValueError:
        raise failure(
            request, InputError(f"There is no release status {str(raw)[:20]!r}.")
        ) from None
    try:
        async with request.app[SESSIONS]() as db:
            return await service.list_releases(
                db, actor=account.actor, status=status, now=request.app[CLOCK]()
            )
    except (ForbiddenError, InputError) as exc:
        raise failure(request, exc) from None


@routes.get("/releases")
async def releases_page(request: web.Request) -> web.StreamResponse:
    """Pending releases to decide (director) or one's own requests and their downloads."""
    releases = await _list(request)
    account = signed_in(request)
    return await page(
        request,
        "releases.html",
        {"releases": releases, "decides": may_decide_release(account.actor)},
    )


@routes.get("/api/releases")
async def releases_api(request: web.Request) -> web.StreamResponse:
    """Releases as JSON."""
    return web.json_response({"releases": [_json(release) for release in await _list(request)]})


async def _decide(request: web.Request) -> ReleaseView:
    account = allowed(request, may_decide_release)
    given = await fields(request)
    try:
        release_id = int(request.match_info["release_id"])
    except ValueError:
        raise failure(request, NotFoundError("There is no such release.")) from None
    decision = given.get("decision", "")
    if decision not in {"approve", "refuse"}:
        raise failure(request, InputError("The decision must be approve or refuse."))
    settings = request.app[SETTINGS]
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            release, token = await service.decide_release(
                db,
                actor=account.actor,
                release_id=release_id,
                approve=decision == "approve",
                note=given.get("note"),
                now=request.app[CLOCK](),
                valid_hours=settings.web.release_valid_hours,
                client=client_of(request),
            )
            if token is not None:
                sealed = request.app[SEAL].encrypt(token.encode()).decode()
                await db.execute(
                    update(Release).where(Release.id == release_id).values(token_sealed=sealed)
                )
            return release
    except (NotFoundError, ForbiddenError, InputError) as exc:
        raise failure(request, exc) from None


@routes.post("/releases/{release_id}/decision")
async def decide_form(request: web.Request) -> web.StreamResponse:
    """The director approves or refuses."""
    await _decide(request)
    raise web.HTTPSeeOther("/releases")


@routes.post("/api/releases/{release_id}/decision")
async def decide_api(request: web.Request) -> web.StreamResponse:
    """The director approves or refuses, as JSON."""
    return web.json_response(_json(await _decide(request)))


@routes.get("/releases/{release_id}/download")
async def download(request: web.Request) -> web.StreamResponse:
    """The released recording, once, for the person who asked, until it expires."""
    account = allowed(request, may_ask_any_release)
    try:
        release_id = int(request.match_info["release_id"])
    except ValueError:
        raise failure(request, NotFoundError("There is no such release.")) from None
    seal: Fernet = request.app[SEAL]
    refused: Exception | None = None
    async with request.app[SESSIONS]() as db, db.begin():
        sealed = await db.scalar(select(Release.token_sealed).where(Release.id == release_id))
        try:
            token = seal.decrypt(sealed.encode()).decode() if sealed else ""
        except InvalidToken:
            token = ""  # sealed under an older key: the download is refused below
        try:
            listening = await service.redeem_release(
                db,
                actor=account.actor,
                release_id=release_id,
                token=token,
                recordings_dir=request.app[SETTINGS].recording.service_dir,
                now=request.app[CLOCK](),
                client=client_of(request),
            )
        except (NotFoundError, ForbiddenError, InputError) as exc:
            refused = exc  # an expiry is recorded when this commits
        else:
            await db.execute(
                update(Release).where(Release.id == release_id).values(token_sealed=None)
            )
    if refused is not None:
        raise failure(request, refused)
    response = web.FileResponse(listening.path, headers={"Content-Type": listening.content_type})
    response.headers["Content-Disposition"] = f'attachment; filename="release-{release_id}.wav"'
    return response
