"""How large a request body may be: small everywhere, large only for a signed-in admin's
prompt upload.

Every route used to accept 20 MB from anyone, read in full before the CSRF check: forty
anonymous 19 MB posts to ``/login`` took the process from 126 MB to 1.84 GB. Now a body
larger than ``FORM_BYTES`` is refused (413) from its ``Content-Length`` before a byte of it
is read; a chunked body, which announces no length, is read only up to the limit. The
prompt upload's ``UPLOAD_BYTES`` applies only once ``auth.staff_session`` found a signed-in
admin; the CSRF check that runs next (its origin test before it reads any of the body)
then reads the upload under that limit.
"""

from __future__ import annotations

from aiohttp import web

from callrec_ari.access import may_administer
from callrec_ari.web.request import account_of
from callrec_ari.web.security import Handler

FORM_BYTES = 256 * 1024  # the largest form (a route's settings) is a few kilobytes
UPLOAD_BYTES = 20 * 1024 * 1024  # a prompt: a minute of audio, even as an uncompressed WAV
UPLOAD_PATHS = frozenset({"/admin/prompts", "/api/admin/prompts"})


def body_limit(request: web.Request) -> int:
    """The largest body this request may send: the upload's only for an admin's upload."""
    account = account_of(request)
    if (
        request.method == "POST"
        and request.path in UPLOAD_PATHS
        and account is not None
        and may_administer(account.actor)
    ):
        return UPLOAD_BYTES
    return FORM_BYTES


@web.middleware
async def limit_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (413) a body over this request's limit before reading it; cap what is read."""
    limit = body_limit(request)
    length = request.content_length
    if length is not None and length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
    # Set on this request rather than on a clone: aiohttp closes the uploaded files'
    # temporary copies only for the request object it made.
    request._client_max_size = limit
    return await handler(request)
