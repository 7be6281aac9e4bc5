"""Signing in (password, then a TOTP code or enrolment), signing out, and session lifetimes.

A session moves through stages: ``code`` or ``enrol`` after a right password, ``in`` once
the second factor matched. Only ``in`` is signed in. It ends after ``session_idle_minutes``
without a request, or ``session_max_hours`` after signing in, whatever happens.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from callrec_ari.access import may_play_training, may_see_calls
from callrec_ari.errors import InputError, TooManyAttemptsError
from callrec_ari.staff import accounts, signin
from callrec_ari.staff.accounts import Account
from callrec_ari.staff.lockout import Lockout, UnknownNames
from callrec_ari.staff.sessions import session_account, sign_out
from callrec_ari.staff.signin import SignIn, SignInError, SignInStep
from callrec_ari.staff.totp import new_secret, provisioning_uri, qr_svg
from callrec_ari.web.i18n import LANGUAGES
from callrec_ari.web.keys import CLOCK, PASSWORDS, SESSIONS, SETTINGS
from callrec_ari.web.request import ACCOUNT, LANGUAGE_KEY, client_of, page, signed_in
from callrec_ari.web.security import Handler
from callrec_ari.web.throttle import AttemptBuckets

routes = web.RouteTableDef()

# Sign-in attempts per client address, and the failures of usernames no account has.
BUCKETS = web.AppKey("web_signin_buckets", AttemptBuckets)
UNKNOWN_NAMES = web.AppKey("web_unknown_names", UnknownNames)
# The sign-in steps' short transactions, one at a time in this process: with SQLite's single
# write lock, dozens of them at once would wait on its busy timeout and some would fail.
SIGN_IN_WRITES = web.AppKey("web_sign_in_writes", asyncio.Lock)
THROTTLED = "Too many sign-in attempts; try again in {seconds} seconds."

_USER = "uid"
_STAGE = "stage"
_STARTED = "started"
_SEEN = "seen"
_SIGNED_IN = "in"
_STAGES = {
    SignInStep.DONE: _SIGNED_IN,
    SignInStep.NEEDS_CODE: "code",
    SignInStep.NEEDS_ENROLMENT: "enrol",
}


def _expired(session: Session, now: datetime, request: web.Request) -> bool:
    web_settings = request.app[SETTINGS].web
    started, seen = session.get(_STARTED), session.get(_SEEN)
    if not isinstance(started, float | int) or not isinstance(seen, float | int):
        return True
    stamp = now.timestamp()
    return (
        stamp - seen > web_settings.session_idle_minutes * 60
        or stamp - started > web_settings.session_max_hours * 3600
    )


@web.middleware
async def staff_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find who is signed in (``request[ACCOUNT]``), ending sessions that timed out."""
    request[ACCOUNT] = None
    session = await get_session(request)
    if session.get(_STAGE) == _SIGNED_IN:
        now = request.app[CLOCK]()
        user_id = session.get(_USER)
        account = None
        if isinstance(user_id, int) and not _expired(session, now, request):
            started = session.get(_STARTED)
            async with request.app[SESSIONS]() as db:
                account = await session_account(
                    db,
                    user_id,
                    signed_in_at=datetime.fromtimestamp(started, UTC)
                    if isinstance(started, float | int)
                    else None,
                )
        if account is None:
            session.invalidate()
        else:
            session[_SEEN] = now.timestamp()
            request[ACCOUNT] = account
    return await handler(request)


def _lockout(request: web.Request) -> Lockout:
    return Lockout.from_settings(request.app[SETTINGS].web)


def _next_url(value: object) -> str:
    # Only our own absolute paths: never an open redirect to another site.
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        return value
    return "/calls"


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    """Signed in: the calls (a trainer, who sees none: the training library); otherwise the
    sign-in page."""
    account = request[ACCOUNT]
    raise web.HTTPSeeOther("/login" if account is None else _landing(account))


def _landing(account: Account, asked: str = "/calls") -> str:
    """Where a person lands after signing in: ``asked``, unless that is the calls page and
    their roles see no calls (a trainer's), who lands on the training library instead."""
    if asked == "/calls" and not may_see_calls(account.actor) and may_play_training(account.actor):
        return "/training"
    return asked


@routes.get("/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    """The sign-in form."""
    return await page(
        request,
        "login.html",
        {"next": _next_url(request.query.get("next")), "error": None, "username": ""},
    )


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check the password; then on to the code, to enrolment, or straight in if exempt."""
    form = await request.post()
    username = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))[:1024]
    next_url = _next_url(form.get("next"))
    try:
        _throttle(request)
        with request.app[PASSWORDS].reserved(_address(request)):
            found = await _password_step(request, username, password)
    except TooManyAttemptsError as exc:
        return await _login_page(
            request, next_url, username, str(exc), status=exc.http_status, wait=exc.retry_after
        )
    if isinstance(found, SignInError):
        return await _login_page(request, next_url, username, str(found), status=401)
    request.app[BUCKETS].give_back(_address(request))
    session = await new_session(request)  # a fresh session id: no fixation
    session[_USER] = found.account.id
    session[_STAGE] = _STAGES[found.step]
    session["next"] = next_url
    _stamp(session, request)
    if found.step is SignInStep.DONE:
        raise web.HTTPSeeOther(_landing(found.account, next_url))
    raise web.HTTPSeeOther("/login/code" if found.step is SignInStep.NEEDS_CODE else "/login/enrol")


async def _password_step(
    request: web.Request, username: str, password: str
) -> SignIn | SignInError:
    """The password step in three parts: no transaction is open while argon2 works."""
    passwords = request.app[PASSWORDS]
    options: dict[str, Any] = {
        "passwords": passwords,
        "now": request.app[CLOCK](),
        "lockout": _lockout(request),
        "unknown": request.app[UNKNOWN_NAMES],
        "client": client_of(request),
    }
    refused: SignInError | None = None
    async with request.app[SESSIONS]() as db:
        # Each block commits even when the step is refused: the count and the trail stay.
        async with request.app[SIGN_IN_WRITES], db.begin():
            try:
                attempt = await signin.claim_password(db, username=username, **options)
            except SignInError as exc:
                refused = exc
        if refused is not None:
            return refused
        matches = await passwords.check(attempt.password_hash, password)
        async with request.app[SIGN_IN_WRITES], db.begin():
            try:
                return await signin.settle_password(
                    db, attempt, matches=matches, password=password, **options
                )
            except SignInError as exc:
                refused = exc
    return refused


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


def _throttle(request: web.Request) -> None:
    """Take one sign-in attempt from the client address's bucket, or refuse it (429)."""
    wait = request.app[BUCKETS].take(_address(request), request.app[CLOCK]().timestamp())
    if wait:
        raise TooManyAttemptsError(THROTTLED.format(seconds=wait), retry_after=wait)


async def _login_page(
    request: web.Request,
    next_url: str,
    username: str,
    error: str,
    *,
    status: int,
    wait: int | None = None,
) -> web.StreamResponse:
    response = await page(
        request,
        "login.html",
        {"next": next_url, "error": error, "username": username},
        status=status,
    )
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def _stamp(session: Session, request: web.Request) -> None:
    now = request.app[CLOCK]().timestamp()
    session[_STARTED] = now
    session[_SEEN] = now


async def _pending(request: web.Request, stage: str) -> tuple[Session, int]:
    session = await get_session(request)
    user_id = session.get(_USER)
    if session.get(_STAGE) != stage or not isinstance(user_id, int):
        raise web.HTTPSeeOther("/login")
    if _expired(session, request.app[CLOCK](), request):
        session.invalidate()
        raise web.HTTPSeeOther("/login")
    return session, user_id


@routes.get("/login/code")
async def code_form(request: web.Request) -> web.StreamResponse:
    """The second step: the six digits from the authenticator app."""
    await _pending(request, "code")
    return await page(request, "code.html", {"error": None})


@routes.post("/login/code")
async def code(request: web.Request) -> web.StreamResponse:
    """Check the code; signed in if it matches."""
    session, user_id = await _pending(request, "code")
    form = await request.post()
    failure: SignInError | None = None
    try:
        _throttle(request)
    except TooManyAttemptsError as exc:
        response = await page(request, "code.html", {"error": str(exc)}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    async with request.app[SESSIONS]() as db, request.app[SIGN_IN_WRITES], db.begin():
        try:
            await signin.check_code(
                db,
                user_id=user_id,
                code=str(form.get("code", "")).strip()[:16],
                now=request.app[CLOCK](),
                lockout=_lockout(request),
                client=client_of(request),
            )
        except SignInError as exc:
            failure = exc
    if failure is not None:
        return await page(request, "code.html", {"error": str(failure)}, status=401)
    request.app[BUCKETS].give_back(_address(request))  # a right code is no flood either
    return await _signed_in(session, request, user_id)


async def _signed_in(session: Session, request: web.Request, user_id: int) -> web.StreamResponse:
    session[_STAGE] = _SIGNED_IN
    _stamp(session, request)
    async with request.app[SESSIONS]() as db:
        account = await accounts.get_account(db, user_id)
    raise web.HTTPSeeOther(_landing(account, _next_url(session.pop("next", None))))


_PENDING_TOTP = "enrol_secret"


@routes.get("/login/enrol")
async def enrol_form(request: web.Request) -> web.StreamResponse:
    """First sign-in: a new TOTP secret as a QR code and as text, to add to an app."""
    session, user_id = await _pending(request, "enrol")
    return await _enrolment_page(request, session, user_id, error=None)


async def _enrolment_page(
    request: web.Request, session: Session, user_id: int, *, error: str | None
) -> web.StreamResponse:
    # The secret lives only in this (encrypted) session until confirmed: it is bound to the
    # session that proved the password, so someone else who also got past the password
    # cannot replace it, and a mistyped code does not make the person scan a new one.
    secret = session.get(_PENDING_TOTP)
    async with request.app[SESSIONS]() as db, db.begin():
        account = await accounts.get_account(db, user_id)
    if account.totp_enrolled:  # someone else confirmed first: nothing left to enrol
        raise InputError(f"User {account.username} has set up two-factor sign-in already.")
    if not isinstance(secret, str):
        secret = new_secret()
        session[_PENDING_TOTP] = secret
    uri = provisioning_uri(secret, account.username)
    return await page(
        request,
        "enrol.html",
        {"secret": secret, "qr": qr_svg(uri), "error": error},
        status=200 if error is None else 401,
    )


@routes.post("/login/enrol")
async def enrol(request: web.Request) -> web.StreamResponse:
    """Confirm enrolment with a first code from the app; signed in if it matches."""
    session, user_id = await _pending(request, "enrol")
    form = await request.post()
    secret = session.get(_PENDING_TOTP)
    if not isinstance(secret, str):
        raise web.HTTPSeeOther("/login/enrol")  # the form was not shown in this session
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            await signin.confirm_enrolment(
                db,
                user_id=user_id,
                code=str(form.get("code", "")).strip()[:16],
                now=request.app[CLOCK](),
                client=client_of(request),
                secret=secret,
            )
    except InputError as exc:
        return await _enrolment_page(request, session, user_id, error=str(exc))
    session.pop(_PENDING_TOTP, None)
    return await _signed_in(session, request, user_id)


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """Sign out: the session is gone, and the trail says so."""
    account = request[ACCOUNT]
    session = await get_session(request)
    if account is not None:
        async with request.app[SESSIONS]() as db, db.begin():
            await sign_out(db, account, now=request.app[CLOCK](), client=client_of(request))
    session.invalidate()
    raise web.HTTPSeeOther("/login")


@routes.post("/language")
async def choose_language(request: web.Request) -> web.StreamResponse:
    """Show the pages in another of our languages for the rest of this session."""
    form = await request.post()
    language = str(form.get("language", ""))
    if language not in LANGUAGES:
        raise InputError(f"There is no translation for {language[:10]!r}.")
    session = await get_session(request)
    session[LANGUAGE_KEY] = language
    back = _next_url(form.get("next"))
    raise web.HTTPSeeOther(back if request[ACCOUNT] or back == "/login" else "/login")


async def current(request: web.Request) -> web.StreamResponse:
    """The signed-in account (for the API)."""
    account = signed_in(request)
    return web.json_response(
        {
            "username": account.username,
            "display_name": account.display_name,
            "roles": sorted(account.roles),
            "extension": account.extension,
            "language": account.language,
        }
    )
