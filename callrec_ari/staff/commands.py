"""``callrec users ...``: staff accounts of the web app from the command line.

Parsing and printing only; ``accounts.py`` does the work, in one transaction per command
(``rights/job.py``). The operator at the server acts as an admin named ``cli:<login name>``
(the ``sudo`` caller's name when run through ``sudo``).

The four-eyes rule holds here as in the web app: admin, dpo, director and an exemption from
two-factor sign-in are only asked for (``users grants`` lists them; another admin approves
with ``users approve ID`` or on the web). The one exception is an installation without any
active admin, where nobody could approve: there the command line's grants take effect at
once (audited with ``"bootstrap": true``) until the first admin exists, e.g. from
``callrec users create NAME --role admin``.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.cli import CommandLine
from callrec_ari.cli_audit import record_read
from callrec_ari.errors import InputError
from callrec_ari.rights.job import Job, config_option, handler, out
from callrec_ari.staff import accounts, grants
from callrec_ari.staff.accounts import Account
from callrec_ari.staff.lockout import Lockout
from callrec_ari.staff.passwords import Passwords

Change = Callable[[AsyncSession, int], Awaitable[Account]]  # (session, user id) -> account


def add_commands(cli: CommandLine) -> None:
    """Add ``users`` and its actions."""
    admin = Actor.of(f"cli:{cli.operator.person}", Role.ADMIN)
    listed = handler(cli, functools.partial(_list, admin=admin))
    top = cli.add("users", listed, "Staff accounts of the web app.")
    sub = top.add_subparsers(dest="users_action", metavar="ACTION")

    create = sub.add_parser("create", help="add a user (asks for the password twice)")
    create.add_argument("username")
    _role_option(create)
    create.add_argument("--name", help="the full name shown in the web app")
    create.add_argument("--extension", help="the extension whose calls an agent sees")
    create.add_argument("--language", default="en", help=", ".join(accounts.LANGUAGES))
    create.add_argument("--no-totp", action="store_true", help="exempt from two-factor sign-in")
    _password_option(create)
    create.set_defaults(handler=handler(cli, functools.partial(_create, admin=admin)))

    listing = sub.add_parser("list", help="every user, their roles and sign-in state")
    listing.set_defaults(handler=listed)

    roles = sub.add_parser("roles", help="replace a user's roles")
    roles.add_argument("username")
    _role_option(roles)
    roles.set_defaults(handler=handler(cli, functools.partial(_roles, admin=admin)))

    password = sub.add_parser("password", help="give a user a new password")
    password.add_argument("username")
    _password_option(password)
    password.set_defaults(handler=handler(cli, functools.partial(_password, admin=admin)))

    pending = sub.add_parser("grants", help="grants waiting for a second admin")
    pending.add_argument("--all", action="store_true", help="decided ones too")
    pending.set_defaults(handler=handler(cli, _grants))
    parsers = [create, listing, roles, password, pending]
    for name, text in (
        ("approve", "approve another admin's pending grant (it takes effect now)"),
        ("refuse", "refuse a pending grant (your own: withdraw it)"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("grant_id", type=int, metavar="ID")
        parser.set_defaults(handler=handler(cli, functools.partial(_decide, admin=admin)))
        parsers.append(parser)
    for name, text, body in (
        (
            "reset-totp",
            "forget a user's authenticator app: set up again at next sign-in",
            _reset_totp,
        ),
        ("unlock", "lift a lock-out after failed sign-ins", _unlock),
        ("disable", "stop a user from signing in (their sessions end)", _disable),
        ("enable", "let a disabled user sign in again", _disable),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("username")
        parser.set_defaults(handler=handler(cli, functools.partial(body, admin=admin)))
        parsers.append(parser)
    for parser in parsers:
        config_option(parser)


def _role_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        choices=[role.value for role in Role],
        help="a role (repeat for several)",
    )


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from one line of standard input instead of asking",
    )


def _read_password(args: argparse.Namespace) -> str:
    """The new password: one line of stdin, or typed twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise InputError("The two passwords typed differ.")
    return first


def _create(job: Job, admin: Actor) -> int:
    args = job.args
    password = _read_password(args)
    account = job.run(
        lambda session: accounts.create_user(
            session,
            by=admin.name,
            username=args.username,
            display_name=args.name if args.name is not None else args.username.strip().lower(),
            password=password,
            passwords=Passwords(job.settings.passwords),
            roles=[Role(role) for role in args.roles],
            extension=args.extension,
            language=args.language,
            totp_exempt=args.no_totp,
            now=job.now,
            four_eyes=admin,
            bootstrap=True,
        )
    )
    second = (
        "exempt from two-factor sign-in"
        if account.totp_exempt
        else "sets up two-factor sign-in (TOTP) at the first sign-in"
    )
    out([f"user {account.username} created ({_roles_text(account)}); {second}"])
    _waiting(job, account)
    return 0


def _waiting(job: Job, account: Account) -> None:
    """Say which grants to the account wait for a second admin."""
    for grant in job.run(lambda session: grants.list_grants(session, user_id=account.id)):
        out([f"grant {grant.id}: {grant.what} for {grant.username} waits for a second admin"])


def _grants(job: Job) -> int:
    found = job.run(lambda session: grants.list_grants(session, decided=job.args.all))
    if not found:
        out(["no grants are waiting"])
    for grant in found:
        decided = (
            f"  {grant.outcome} by {grant.decided_by} {grant.decided_at:%Y-%m-%d %H:%M} UTC"
            if grant.outcome and grant.decided_at
            else ""
        )
        out(
            [
                f"{grant.id}  {grant.username}  {grant.what}  asked by {grant.requested_by} "
                f"{grant.requested_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC{decided}"
            ]
        )
    return 0


def _decide(job: Job, admin: Actor) -> int:
    approve = job.args.users_action == "approve"
    grant = job.run(
        lambda session: grants.decide(
            session, by=admin, grant_id=job.args.grant_id, approve=approve, now=job.now
        )
    )
    out([f"grant {grant.id} ({grant.what} for {grant.username}) {grant.outcome}"])
    return 0


def _list(job: Job, admin: Actor) -> int:
    async def read(session: AsyncSession) -> list[Account]:
        listed = await accounts.list_accounts(session)
        await record_read(
            session,
            actor=admin.name,
            now=job.now,
            action="users.list",
            command="users list",
            asked={},
            results=len(listed),
        )
        return listed

    found = job.run(read)
    if not found:
        out(["no users yet: callrec users create NAME --role admin"])
        return 0
    lockout = Lockout.from_settings(job.settings.web)
    rows = [("USERNAME", "ROLES", "EXTENSION", "2FA", "STATE")]
    for account in found:
        until = account.locked_until
        if account.disabled:
            state = "disabled"
        elif until is not None and lockout.is_locked(until, job.now):
            state = f"locked until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        else:
            state = "active"
        rows.append(
            (account.username, _roles_text(account), account.extension or "-", _tfa(account), state)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    out(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )
    return 0


def _tfa(account: Account) -> str:
    if account.totp_exempt:
        return "exempt"
    return "enrolled" if account.totp_enrolled else "pending"


def _roles_text(account: Account) -> str:
    return ",".join(sorted(account.roles))


def _roles(job: Job, admin: Actor) -> int:
    roles = [Role(role) for role in job.args.roles]
    account = _change(
        job,
        lambda session, user_id: accounts.set_roles(
            session, by=admin, user_id=user_id, roles=roles, now=job.now, bootstrap=True
        ),
    )
    out([f"user {account.username} now has the roles {_roles_text(account) or 'none'}"])
    _waiting(job, account)
    return 0


def _password(job: Job, admin: Actor) -> int:
    password = _read_password(job.args)
    account = _change(
        job,
        lambda session, user_id: accounts.set_password(
            session,
            by=admin,
            user_id=user_id,
            password=password,
            passwords=Passwords(job.settings.passwords),
            now=job.now,
        ),
    )
    out([f"user {account.username} has a new password"])
    return 0


def _reset_totp(job: Job, admin: Actor) -> int:
    account = _change(
        job,
        lambda session, user_id: accounts.reset_totp(
            session, by=admin, user_id=user_id, now=job.now
        ),
    )
    out([f"user {account.username} sets up two-factor sign-in again at the next sign-in"])
    return 0


def _unlock(job: Job, admin: Actor) -> int:
    account = _change(
        job,
        lambda session, user_id: accounts.unlock(session, by=admin, user_id=user_id, now=job.now),
    )
    out([f"user {account.username} is unlocked"])
    return 0


def _disable(job: Job, admin: Actor) -> int:
    disabled = job.args.users_action == "disable"
    account = _change(
        job,
        lambda session, user_id: accounts.set_disabled(
            session, by=admin, user_id=user_id, disabled=disabled, now=job.now
        ),
    )
    out([f"user {account.username} is {'disabled' if disabled else 'enabled'}"])
    return 0


def _change(job: Job, change: Change) -> Account:
    """Run ``change`` on the user named in the arguments, in one transaction."""

    async def work(session: AsyncSession) -> Account:
        account = await accounts.find_account(session, job.args.username)
        return await change(session, account.id)

    return job.run(work)
