"""Refused attempts leave a trace: every ``forbidden`` or ``not_found`` answer to a signed-in
person goes into the audit trail as ``access.refused``, rate-limited.

An agent opening a colleague's call, an admin asking for audio, someone trying addresses:
each is one decision the data-protection officer must be able to find afterwards. At most
one entry per account and kind of refusal (``forbidden``, ``not_found``) is written per
minute (``callrec_ari.trail_limit``); the refusals counted in between are written with the
next entry as ``repeats``, so a flood costs one entry a minute and hides nothing. The answer
itself is untouched: a colleague's call still gets the very same 404 as a missing one.

Sign-in and CSRF refusals are not recorded here: they come before any data is asked for
(and sign-in failures have their own entries). The entry is written in its own transaction,
since the refused action's was rolled back.

The same module owns the limiter for listening (``STREAMS``), used by ``web/calls.py``.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from aiohttp import web

from callrec_ari.audit import trail
from callrec_ari.errors import CsrfError, ForbiddenError, NotFoundError, NotSignedInError
from callrec_ari.staff.accounts import Account
from callrec_ari.trail_limit import TrailLimiter
from callrec_ari.web.keys import CLOCK, SESSIONS
from callrec_ari.web.request import account_of, client_of
from callrec_ari.web.security import Handler

log = structlog.get_logger(__name__)

REFUSAL_WINDOW = timedelta(minutes=1)
# A browser's player asks for one recording in many byte ranges, and again on every seek:
# one ``play.stream`` entry per account and call every five minutes keeps the trail readable.
STREAM_WINDOW = timedelta(minutes=5)
_TARGET = 128  # the audit_log.target column

REFUSALS = web.AppKey("web_refusals", TrailLimiter)
STREAMS = web.AppKey("web_streams", TrailLimiter)


def audit_refusals(app: web.Application) -> None:
    """Record refused attempts in ``app`` (innermost middleware) and keep the limiters."""
    app[REFUSALS] = TrailLimiter(every=REFUSAL_WINDOW)
    app[STREAMS] = TrailLimiter(every=STREAM_WINDOW)
    app.middlewares.append(refusal_trail)


@web.middleware
async def refusal_trail(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Note a signed-in person's ``ForbiddenError`` or ``NotFoundError``; re-raise it."""
    try:
        return await handler(request)
    except (NotSignedInError, CsrfError):
        raise
    except (ForbiddenError, NotFoundError) as exc:
        account = account_of(request)
        if account is not None:
            await _record(request, account, exc)
        raise


async def _record(
    request: web.Request, account: Account, exc: ForbiddenError | NotFoundError
) -> None:
    now = request.app[CLOCK]()
    repeats = request.app[REFUSALS].admit((account.username, exc.error_id), now)
    if repeats is None:
        return
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            await trail.append(
                db,
                at=now,
                actor=account.username,
                action="access.refused",
                target=f"{request.method} {request.path}"[:_TARGET],
                detail={
                    "error_id": exc.error_id,
                    "status": exc.http_status,
                    "message": str(exc),
                    "repeats": repeats,  # refusals of this kind counted, not written, before
                },
                client=client_of(request),
            )
    except Exception:
        # The person still gets their refusal; the missing entry must not go unnoticed.
        log.exception("web.refusal_not_audited", actor=account.username, path=request.path)
