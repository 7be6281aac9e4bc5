"""Builds the staff web app: middlewares in order, the database, pages, API and static files."""

from __future__ import annotations

import asyncio
import base64
import ssl
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from callrec_ari.config import Settings
from callrec_ari.config.encryption import with_master_key
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.errors import ConfigError
from callrec_ari.staff.lockout import UnknownNames
from callrec_ari.staff.passwords import Passwords
from callrec_ari.storage.recordings import opened_offsite
from callrec_ari.web import (
    admin,
    admin_prompts,
    admin_routes,
    admin_users,
    audit,
    auth,
    calls,
    holds,
    notice,
    openapi,
    releases,
    retention,
    rights,
    subjects,
    training,
)
from callrec_ari.web.errors import error_answers
from callrec_ari.web.keys import CLOCK, OFFSITE, PASSWORDS, RENDERER, SEAL, SESSIONS, SETTINGS
from callrec_ari.web.limits import FORM_BYTES, limit_bodies
from callrec_ari.web.refusals import audit_refusals
from callrec_ari.web.render import Renderer
from callrec_ari.web.secret import load_or_create_key
from callrec_ari.web.security import csrf_protection, harden, is_loopback, security_headers
from callrec_ari.web.throttle import AttemptBuckets

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
COOKIE = "callrec_session"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_web_app(
    settings: Settings, *, clock: Callable[[], datetime] = _utc_now
) -> web.Application:
    """The staff web app; its database engine starts and stops with it."""
    # aiohttp-session keeps its storage under a plain string key, which aiohttp warns about
    # on every request; the library's choice, not ours, so only its warning is silenced.
    warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")
    # The master key is made at the first start, like the session key below.
    settings = replace(settings, encryption=with_master_key(settings.encryption))
    web_settings = settings.web
    tls = web_settings.tls_certificate is not None
    key = load_or_create_key(web_settings.secret_key_file)
    storage = EncryptedCookieStorage(
        key,
        cookie_name=COOKIE,
        secure=tls,
        httponly=True,
        samesite="Strict",
        max_age=None,  # a browser-session cookie; the lifetimes are checked on our side
    )
    app = web.Application(
        # Outermost first. The headers go on every answer, errors included; the session is
        # saved with error answers too, so error_answers sits inside session_middleware;
        # it renders whatever the sign-in check, the CSRF check or a handler raises.
        middlewares=[
            security_headers(tls=tls),
            session_middleware(storage),
            error_answers,
            auth.staff_session,
            limit_bodies,  # knows who is signed in; before the CSRF check reads the body
            csrf_protection,
        ],
        client_max_size=FORM_BYTES,  # limit_bodies raises it for an admin's prompt upload
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[RENDERER] = Renderer()
    app[SEAL] = Fernet(base64.urlsafe_b64encode(key))
    app[PASSWORDS] = Passwords(settings.passwords)
    app[auth.BUCKETS] = AttemptBuckets(
        burst=web_settings.signin_burst, per_minute=web_settings.signin_per_minute
    )
    app[auth.UNKNOWN_NAMES] = UnknownNames()
    app[auth.SIGN_IN_WRITES] = asyncio.Lock()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_offsite)
    app.on_cleanup.append(_stop_hashing)
    app.router.add_routes(auth.routes)
    app.router.add_routes(calls.routes)
    app.router.add_routes(releases.routes)
    app.router.add_routes(rights.routes)
    app.router.add_routes(subjects.routes)
    app.router.add_routes(audit.routes)
    app.router.add_routes(holds.routes)
    app.router.add_routes(training.routes)
    app.router.add_routes(retention.routes)
    app.router.add_routes(admin.routes)
    app.router.add_routes(admin_users.routes)
    app.router.add_routes(admin_prompts.routes)
    app.router.add_routes(admin_routes.routes)
    app.router.add_routes(notice.routes)  # public: no sign-in
    app.router.add_get("/api/me", auth.current)
    app.router.add_get("/api/openapi.json", openapi.openapi_json)
    app.router.add_static("/static", STATIC_DIR)
    harden(app)  # no Server header (web/security.py)
    audit_refusals(app)  # refused attempts into the audit trail (web/refusals.py)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database.url)
    app[SESSIONS] = create_session_factory(engine)
    yield
    await engine.dispose()


async def _offsite(app: web.Application) -> AsyncIterator[None]:
    """The object store, with ``[storage] kind = "s3"``: recordings are played and deleted
    there too (the service uploads; the web app runs no upload queue)."""
    async with opened_offsite(app[SETTINGS]) as offsite:
        app[OFFSITE] = offsite
        yield


async def _stop_hashing(app: web.Application) -> None:
    app[PASSWORDS].close()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context when a certificate is configured; a loud warning otherwise."""
    web_settings = settings.web
    if web_settings.tls_certificate is None or web_settings.tls_key is None:
        if not is_loopback(web_settings.host):
            log.warning(
                "web.plain_http",
                host=web_settings.host,
                hint="passwords and recordings cross the network unencrypted: "
                "set [web] tls_certificate and tls_key",
            )
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(web_settings.tls_certificate, web_settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"The TLS certificate {web_settings.tls_certificate} or key "
            f"{web_settings.tls_key} cannot be used: {exc}."
        ) from None
    return context
