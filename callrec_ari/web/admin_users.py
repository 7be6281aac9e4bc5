"""Staff accounts for the admin: the list, a new account, and each account's roles,
extension, two-factor sign-in, lock, password and whether it may sign in at all.

Every change goes through ``staff.accounts``, which refuses what may not be done (the last
active admin stays one) and audits the change in the same transaction. Granting admin, dpo or
director, or an exemption from two-factor sign-in, only asks for it: the pending grants are
listed on the users page and at ``/api/admin/grants`` for a different admin to approve or
refuse (``staff.grants``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from callrec_ari.access import Actor, Role
from callrec_ari.db.session import DbSession
from callrec_ari.errors import InputError
from callrec_ari.staff import accounts, grants
from callrec_ari.staff.accounts import Account
from callrec_ari.staff.grants import Grant
from callrec_ari.staff.passwords import Passwords
from callrec_ari.web.admin import administrator, flag
from callrec_ari.web.keys import CLOCK, PASSWORDS, SESSIONS
from callrec_ari.web.request import client_of, done, fields, is_api, page

routes = web.RouteTableDef()

ROLES = [role.value for role in Role]
_ID = r"{user_id:\d{1,9}}"  # short enough for any integer column


@dataclass(frozen=True, kw_only=True)
class Given:
    """A request's fields, and the roles ticked (a JSON list, or repeated form fields)."""

    text: dict[str, str]
    roles: list[str]


async def _given(request: web.Request) -> Given:
    text = await fields(request)
    if is_api(request):
        raw = (await request.json()).get("roles", [])
        if not isinstance(raw, list) or not all(isinstance(role, str) for role in raw):
            raise InputError("The field roles must be a list of role names.")
        return Given(text=text, roles=raw)
    form = await request.post()
    return Given(
        text=text, roles=[role for role in form.getall("roles", []) if isinstance(role, str)]
    )


def two_factor(account: Account) -> str:
    """``exempt``, ``enrolled``, or ``pending`` (set up at the next sign-in)."""
    if account.totp_exempt:
        return "exempt"
    return "enrolled" if account.totp_enrolled else "pending"


def locked(account: Account, now: datetime) -> bool:
    """Whether the account is locked out now (a served lock ends at the next sign-in)."""
    return account.locked_until is not None and account.locked_until > now


def _json(account: Account, now: datetime) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "roles": sorted(account.roles),
        "extension": account.extension,
        "language": account.language,
        "two_factor": two_factor(account),
        "locked_until": account.locked_until.isoformat()
        if account.locked_until and locked(account, now)
        else None,
        "disabled": account.disabled,
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
    }


async def _with_grants(request: web.Request, account: Account) -> dict[str, Any]:
    """The account as JSON, with the grants to it still waiting for a second admin."""
    waiting = await _pending(request, account.id)
    return {
        **_json(account, request.app[CLOCK]()),
        "pending_grants": [grant.to_json() for grant in waiting],
    }


def _password(given: Given) -> str:
    password = given.text.get("password", "")
    # The form asks twice; the API sends it once.
    if "repeat" in given.text and given.text["repeat"] != password:
        raise InputError("The two passwords differ.")
    return password


def roles_of(names: list[str]) -> list[Role]:
    """The roles named; ``InputError`` for a name that is none."""
    try:
        return [Role(name) for name in names]
    except ValueError:
        raise InputError(f"A role is not one of {', '.join(ROLES)}.") from None


# -- the list and a new account ------------------------------------------------------------


async def _pending(request: web.Request, user_id: int | None = None) -> list[Grant]:
    async with request.app[SESSIONS]() as db:
        return await grants.list_grants(db, user_id=user_id)


async def _accounts(request: web.Request) -> list[Account]:
    async with request.app[SESSIONS]() as db:
        return await accounts.list_accounts(db)


async def _list_page(
    request: web.Request,
    *,
    error: str | None = None,
    entered: dict[str, Any] | None = None,
    grant_error: str | None = None,
) -> web.Response:
    return await page(
        request,
        "admin_users.html",
        {
            "users": await _accounts(request),
            "grants": await _pending(request),
            "me": administrator(request).username,
            "now": request.app[CLOCK](),
            "roles": ROLES,
            "user_languages": accounts.LANGUAGES,
            "error": error,
            "grant_error": grant_error,
            "entered": entered or {"roles": []},
        },
        status=200 if error is None and grant_error is None else 400,
    )


@routes.get("/admin/users")
async def users_page(request: web.Request) -> web.StreamResponse:
    """Every account, and the form for a new one."""
    administrator(request)
    return await _list_page(request)


@routes.get("/api/admin/users")
async def users_api(request: web.Request) -> web.StreamResponse:
    """Every account as JSON."""
    administrator(request)
    now = request.app[CLOCK]()
    return web.json_response({"users": [_json(user, now) for user in await _accounts(request)]})


async def _create(request: web.Request, given: Given) -> Account:
    admin = administrator(request)
    text = given.text
    async with request.app[SESSIONS]() as db, db.begin():
        return await accounts.create_user(
            db,
            by=admin.username,
            four_eyes=admin.actor,
            username=text.get("username", ""),
            display_name=text.get("display_name", ""),
            password=_password(given),
            passwords=request.app[PASSWORDS],
            roles=roles_of(given.roles),
            extension=text.get("extension"),
            language=text.get("language", "en"),
            now=request.app[CLOCK](),
            client=client_of(request),
        )


_KEPT = frozenset({"username", "display_name", "extension", "language"})  # never the password


@routes.post("/admin/users")
@routes.post("/api/admin/users")
async def create(request: web.Request) -> web.StreamResponse:
    """Create an account; it sets up two-factor sign-in at its first sign-in."""
    administrator(request)
    given = await _given(request)
    try:
        created = await _create(request, given)
    except InputError as exc:
        if is_api(request):
            raise
        # The form again, with the refusal and what was typed (never the password).
        entered = {key: value for key, value in given.text.items() if key in _KEPT}
        return await _list_page(request, error=str(exc), entered={**entered, "roles": given.roles})
    return done(
        request,
        to=f"/admin/users/{created.id}",
        body=await _with_grants(request, created),
        status=201,
    )


# -- one account ---------------------------------------------------------------------------


def _user_id(request: web.Request) -> int:
    return int(request.match_info["user_id"])


async def _one(request: web.Request) -> Account:
    async with request.app[SESSIONS]() as db:
        return await accounts.get_account(db, _user_id(request))


async def _user_page(request: web.Request, *, error: str | None = None) -> web.Response:
    return await page(
        request,
        "admin_user.html",
        {
            "user": await _one(request),
            "grants": await _pending(request, _user_id(request)),
            "now": request.app[CLOCK](),
            "roles": ROLES,
            "error": error,
        },
        status=200 if error is None else 400,
    )


@routes.get(f"/admin/users/{_ID}")
async def user_page(request: web.Request) -> web.StreamResponse:
    """One account and every change the admin may make to it."""
    administrator(request)
    return await _user_page(request)


@routes.get(f"/api/admin/users/{_ID}")
async def user_api(request: web.Request) -> web.StreamResponse:
    """One account as JSON."""
    administrator(request)
    return web.json_response(await _with_grants(request, await _one(request)))


@dataclass(frozen=True, kw_only=True)
class _Asked:
    """One change asked for: by whom, to which account, with what."""

    db: DbSession
    by: Actor
    user_id: int
    given: Given
    now: datetime
    client: str | None
    passwords: Passwords

    @property
    def common(self) -> dict[str, Any]:
        """The arguments every change of ``staff.accounts`` takes."""
        return {"by": self.by, "user_id": self.user_id, "now": self.now, "client": self.client}

    def text(self, name: str) -> str:
        """A field's text; empty if not sent."""
        return self.given.text.get(name, "")


Change = Callable[[_Asked], Awaitable[Account]]

# path -> what it does, and the change itself
CHANGES: dict[str, tuple[str, Change]] = {
    "roles": (
        "Replace the account's roles (refused if no active admin would remain)",
        lambda a: accounts.set_roles(a.db, roles=roles_of(a.given.roles), **a.common),
    ),
    "extension": (
        "Set or clear the extension whose calls the account sees as an agent",
        lambda a: accounts.set_extension(a.db, extension=a.text("extension"), **a.common),
    ),
    "two-factor-exempt": (
        "Exempt the account from two-factor sign-in, or end the exemption",
        lambda a: accounts.set_totp_exempt(a.db, exempt=flag(a.given.text, "exempt"), **a.common),
    ),
    "two-factor-reset": (
        "Forget the account's authenticator: it is set up again at the next sign-in",
        lambda a: accounts.reset_totp(a.db, **a.common),
    ),
    "unlock": (
        "Lift a lock-out and forget the failed sign-ins",
        lambda a: accounts.unlock(a.db, **a.common),
    ),
    "password": (
        "Give the account a new password",
        lambda a: accounts.set_password(
            a.db, password=_password(a.given), passwords=a.passwords, **a.common
        ),
    ),
    "disabled": (
        "Disable the account (its sessions end) or enable it (refused for the last admin)",
        lambda a: accounts.set_disabled(a.db, disabled=flag(a.given.text, "disabled"), **a.common),
    ),
}


async def _change(request: web.Request, change: Change) -> Account:
    admin = administrator(request)
    given = await _given(request)
    async with request.app[SESSIONS]() as db, db.begin():
        return await change(
            _Asked(
                db=db,
                by=admin.actor,
                user_id=_user_id(request),
                given=given,
                now=request.app[CLOCK](),
                client=client_of(request),
                passwords=request.app[PASSWORDS],
            )
        )


def _add_change(name: str, summary: str, change: Change) -> None:
    """One handler for a change, as a form and as its JSON twin; the summary names it in
    the API."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            changed = await _change(request, change)
        except InputError as exc:
            if is_api(request):
                raise
            return await _user_page(request, error=str(exc))  # refusals on the account's page
        return done(
            request,
            to=f"/admin/users/{_user_id(request)}",
            body=await _with_grants(request, changed),
        )

    handler.__doc__ = f"{summary}; the API answers with the account afterwards."
    handler.__name__ = handler.__qualname__ = f"change_{name.replace('-', '_')}"
    routes.post(f"/admin/users/{_ID}/{name}")(handler)
    routes.post(f"/api/admin/users/{_ID}/{name}")(handler)


for _name, (_summary, _change_it) in CHANGES.items():
    _add_change(_name, _summary, _change_it)


# -- pending grants (four eyes) ------------------------------------------------------------

_GRANT = r"{grant_id:\d{1,9}}"


@routes.get("/api/admin/grants")
async def grants_api(request: web.Request) -> web.StreamResponse:
    """Grants of admin, dpo, director or two-factor exemption waiting for a second admin;
    ``?all=yes`` adds the decided ones."""
    administrator(request)
    decided = request.query.get("all", "no").strip().lower() in {"yes", "true", "1"}
    async with request.app[SESSIONS]() as db:
        found = await grants.list_grants(db, decided=decided)
    return web.json_response({"grants": [grant.to_json() for grant in found]})


def _add_decision(name: str, approve: bool, summary: str) -> None:
    """One handler deciding a grant, as a form (back to the users page) and as JSON."""

    async def handler(request: web.Request) -> web.StreamResponse:
        admin = administrator(request)
        grant_id = int(request.match_info["grant_id"])
        try:
            async with request.app[SESSIONS]() as db, db.begin():
                grant = await grants.decide(
                    db,
                    by=admin.actor,
                    grant_id=grant_id,
                    approve=approve,
                    now=request.app[CLOCK](),
                    client=client_of(request),
                )
        except InputError as exc:
            if is_api(request):
                raise
            return await _list_page(request, grant_error=str(exc))
        return done(request, to="/admin/users", body=grant.to_json())

    handler.__doc__ = summary
    handler.__name__ = handler.__qualname__ = f"grant_{name}"
    routes.post(f"/admin/grants/{_GRANT}/{name}")(handler)
    routes.post(f"/api/admin/grants/{_GRANT}/{name}")(handler)


_add_decision(
    "approve",
    True,
    "Approve another admin's pending grant: it takes effect now (never one's own request, "
    "never a grant to oneself).",
)
_add_decision(
    "refuse",
    False,
    "Refuse a pending grant; refusing one's own request withdraws it.",
)
