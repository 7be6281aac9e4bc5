"""Releases to third parties (seed 000 §7.2): asked for on a call's page, decided by the
director, downloaded once by the person who asked, before the link expires.

The one-time token is sealed with the web app's key and kept on the release so the asker's
own page can offer the download (``releases.sealed``); it is cleared when used.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callrec_ari.access import may_ask_any_release, may_decide_release
from callrec_ari.errors import CallrecError, ForbiddenError, InputError, NotFoundError
from callrec_ari.releases import sealed, service
from callrec_ari.releases.service import ReleaseStatus, ReleaseView
from callrec_ari.web.audio import send_listening
from callrec_ari.web.keys import CLOCK, OFFSITE, SEAL, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, done, fields, page, path_id, signed_in

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


@routes.post("/calls/{uniqueid}/releases")
@routes.post("/api/calls/{uniqueid}/releases")
async def ask(request: web.Request) -> web.StreamResponse:
    """Ask the director to release this call's recording."""
    account = allowed(request, may_ask_any_release)  # before the fields are looked at
    given = await fields(request)
    async with request.app[SESSIONS]() as db, db.begin():
        release = await service.request_release(
            db,
            actor=account.actor,
            uniqueid=request.match_info["uniqueid"],
            recipient=given.get("recipient", ""),
            legal_ground=given.get("legal_ground", ""),
            now=request.app[CLOCK](),
            client=client_of(request),
        )
    return done(request, to="/releases", body=_json(release), status=201)


async def _list(request: web.Request) -> list[ReleaseView]:
    account = signed_in(request)
    raw = request.query.get("status") or None
    try:
        status = ReleaseStatus(raw) if raw else None
    except ValueError:
        raise InputError(f"There is no release status {str(raw)[:20]!r}.") from None
    async with request.app[SESSIONS]() as db:
        return await service.list_releases(
            db, actor=account.actor, status=status, now=request.app[CLOCK]()
        )


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


def _release_id(request: web.Request) -> int:
    return path_id(request, "release_id", what="Release")


@routes.post("/releases/{release_id}/decision")
@routes.post("/api/releases/{release_id}/decision")
async def decide(request: web.Request) -> web.StreamResponse:
    """The director approves or refuses."""
    account = allowed(request, may_decide_release)
    given = await fields(request)
    release_id = _release_id(request)
    decision = given.get("decision", "")
    if decision not in {"approve", "refuse"}:
        raise InputError("The decision must be approve or refuse.")
    async with request.app[SESSIONS]() as db, db.begin():
        release = await sealed.decide_and_seal(
            db,
            seal=request.app[SEAL],
            actor=account.actor,
            release_id=release_id,
            approve=decision == "approve",
            note=given.get("note"),
            now=request.app[CLOCK](),
            valid_hours=request.app[SETTINGS].web.release_valid_hours,
            client=client_of(request),
        )
    return done(request, to="/releases", body=_json(release))


@routes.get("/releases/{release_id}/download")
async def download(request: web.Request) -> web.StreamResponse:
    """The released recording, once, for the person who asked, until it expires."""
    account = allowed(request, may_ask_any_release)
    release_id = _release_id(request)
    refused: CallrecError | None = None
    async with request.app[SESSIONS]() as db, db.begin():
        try:
            listening = await sealed.redeem_sealed(
                db,
                seal=request.app[SEAL],
                actor=account.actor,
                release_id=release_id,
                recordings_dir=request.app[SETTINGS].recording.service_dir,
                keys=request.app[SETTINGS].encryption.master_keys,
                now=request.app[CLOCK](),
                client=client_of(request),
                offsite=request.app.get(OFFSITE),
            )
        except (NotFoundError, ForbiddenError, InputError) as exc:
            refused = exc  # an expiry is recorded when this commits; the refusal follows
    if refused is not None:
        raise refused
    return await send_listening(
        request,
        listening,
        headers={
            "Content-Type": listening.content_type,
            "Content-Disposition": f'attachment; filename="release-{release_id}.wav"',
        },
    )
