"""Typed keys of what the web app keeps on the application and on each request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from cryptography.fernet import Fernet

from callrec_ari.config import Settings
from callrec_ari.db.session import SessionFactory
from callrec_ari.staff.passwords import Passwords
from callrec_ari.storage.recordings import Offsite
from callrec_ari.web.render import Renderer

SETTINGS = web.AppKey("web_settings", Settings)
SESSIONS = web.AppKey("web_sessions", SessionFactory)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("web_clock")
RENDERER = web.AppKey("web_renderer", Renderer)
SEAL = web.AppKey("web_seal", Fernet)  # seals one-time release links, with the cookie key
PASSWORDS = web.AppKey("web_passwords", Passwords)  # argon2 at the configured cost
# The object store and outbox with [storage] kind = "s3"; None with the local default.
OFFSITE: web.AppKey[Offsite | None] = web.AppKey("web_offsite")
