"""``callrec users ...``: accounts made and changed from the server's command line."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari import __main__ as entry
from callrec_ari.__main__ import main
from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry, User
from callrec_ari.db.session import open_sessions
from callrec_ari.staff import accounts
from callrec_ari.staff import commands as staff_commands
from callrec_ari.staff.accounts import SignIn
from callrec_ari.staff.lockout import Lockout
from tests.staff.conftest import NOW, PASSWORD
from tests.support.passwords import CHEAP_PASSWORDS, CHEAP_TABLE
from tests.test_main import write_config

NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    """A migrated SQLite database; the operator is root."""
    monkeypatch.setattr(entry, "_actor", lambda: "root")
    monkeypatch.delenv("SUDO_USER", raising=False)
    path = write_config(tmp_path, passwords=CHEAP_TABLE)
    assert main(["migrate", "-c", str(path)]) == 0
    return path


def run(config: Path, capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """One command at the injected time, with ``stdin`` as its standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = main([*argv, "-c", str(config)], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return status, out, err


def on_database(config: Path, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run ``work`` in one committed transaction on the command's database."""
    url = f"sqlite+aiosqlite:///{config.parent / 'db' / 'callrec.sqlite3'}"

    async def _run() -> Any:
        async with open_sessions(url) as sessions, sessions() as session, session.begin():
            return await work(session)

    return asyncio.run(_run())


def create(config, capsys, monkeypatch, username="anna", *options, password=PASSWORD):
    return run(
        config,
        capsys,
        monkeypatch,
        "users",
        "create",
        username,
        *options,
        "--password-stdin",
        stdin=f"{password}\n",
    )


def sign_in(config: Path, username: str, password: str) -> SignIn:
    return on_database(
        config,
        lambda session: accounts.check_password(
            session,
            username=username,
            password=password,
            passwords=CHEAP_PASSWORDS,
            now=NOW,
            lockout=Lockout(after=5, minutes=15),
            client=None,
        ),
    )


def test_an_admin_is_created_from_standard_input(config, capsys, monkeypatch):
    """No admin exists yet, so nobody could approve: the first account's roles are a
    bootstrap, given at once and audited as such."""
    status, out, err = create(
        config, capsys, monkeypatch, "Anna", "--role", "admin", "--role", "dpo", "--name", "Anna K"
    )
    assert (status, err) == (0, "")
    assert out == (
        "user anna created (admin,dpo); sets up two-factor sign-in (TOTP) at the first sign-in\n"
    )
    assert sign_in(config, "anna", PASSWORD).account.display_name == "Anna K"
    entries = list(on_database(config, lambda s: s.scalars(select(AuditEntry))))
    assert [(e.actor, e.action, e.target, e.client) for e in entries] == [
        ("cli:root", "user.create", "user:anna", "cli:root"),
    ]
    assert '"bootstrap":true' in entries[0].detail


def test_an_exempt_user_is_told_so(config, capsys, monkeypatch):
    """``--no-totp`` once an admin exists: asked for; it waits for an admin's approval."""
    create(config, capsys, monkeypatch, "zofia", "--role", "admin")
    status, out, _ = create(config, capsys, monkeypatch, "kiosk", "--role", "agent", "--no-totp")
    assert status == 0
    assert out == (
        "user kiosk created (agent); sets up two-factor sign-in (TOTP) at the first sign-in\n"
        "grant 1: exemption from two-factor sign-in for kiosk waits for a second admin\n"
    )


def test_the_list_shows_roles_extension_two_factor_and_state(config, capsys, monkeypatch):
    """One aligned row per user, by username; locks and disabled accounts stand out."""
    assert run(config, capsys, monkeypatch, "users")[1] == (
        "no users yet: callrec users create NAME --role admin\n"
    )
    create(config, capsys, monkeypatch, "zofia", "--role", "admin")
    create(config, capsys, monkeypatch, "bob", "--role", "agent", "--extension", "100")
    create(config, capsys, monkeypatch, "ewa", "--role", "supervisor", "--role", "director")
    run(config, capsys, monkeypatch, "users", "disable", "ewa")
    until = NOW + timedelta(minutes=10)
    on_database(
        config,
        lambda s: s.execute(
            update(User)
            .where(User.username == "bob")
            .values(locked_until=until, totp_exempt_by="zofia")
        ),
    )
    status, out, _ = run(config, capsys, monkeypatch, "users", "list")
    assert status == 0
    assert out.splitlines() == [
        "USERNAME  ROLES       EXTENSION  2FA      STATE",
        "bob       agent       100        exempt   locked until 2026-12-01 12:10 UTC",
        "ewa       supervisor  -          pending  disabled",  # director waits for approval
        "zofia     admin       -          pending  active",
    ]


def test_errors_are_one_sentence_and_exit_2(config, capsys, monkeypatch):
    """A duplicate, a weak password and an unknown user: each one ``callrec:`` line."""
    create(config, capsys, monkeypatch, "anna", "--role", "admin")
    for result, message in (
        (create(config, capsys, monkeypatch, "anna", "--role", "dpo"), "User anna already exists."),
        (
            create(config, capsys, monkeypatch, "bob", "--role", "dpo", password="short"),
            "The password must be at least 12 characters long.",
        ),
        (
            run(config, capsys, monkeypatch, "users", "unlock", "nobody"),
            "User nobody does not exist.",
        ),
        (
            run(config, capsys, monkeypatch, "users", "roles", "anna", "--role", "agent"),
            "User anna is the last active admin: make another user admin "
            "before taking the admin role from them.",
        ),
        (
            run(config, capsys, monkeypatch, "users", "disable", "anna"),
            "User anna is the last active admin: make another user admin before disabling them.",
        ),
    ):
        assert result == (2, "", f"callrec: {message}\n")


def test_roles_password_and_the_rest_change_the_account(config, capsys, monkeypatch):
    """Each action prints what it did, and the account behaves accordingly."""
    create(config, capsys, monkeypatch, "anna", "--role", "agent")
    on_database(
        config,
        lambda s: s.execute(
            update(User).where(User.username == "anna").values(totp_exempt_by="someone")
        ),
    )
    assert run(config, capsys, monkeypatch, "users", "roles", "anna", "--role", "supervisor")[
        :2
    ] == (0, "user anna now has the roles supervisor\n")
    status, out, _ = run(
        config,
        capsys,
        monkeypatch,
        "users",
        "password",
        "anna",
        "--password-stdin",
        stdin=f"{NEW_PASSWORD}\n",
    )
    assert (status, out) == (0, "user anna has a new password\n")
    assert sign_in(config, "anna", NEW_PASSWORD).account.roles == {Role.SUPERVISOR}
    for action, said in (
        ("reset-totp", "sets up two-factor sign-in again at the next sign-in"),
        ("unlock", "is unlocked"),
        ("disable", "is disabled"),
        ("enable", "is enabled"),
    ):
        assert run(config, capsys, monkeypatch, "users", action, "anna")[:2] == (
            0,
            f"user anna {said}\n",
        )
    entries = on_database(config, lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [(e.actor, e.action) for e in entries] == [
        ("cli:root", "user.create"),
        ("cli:root", "user.roles"),
        ("cli:root", "user.password"),
        ("anna", "login"),
        ("cli:root", "user.totp_reset"),
        ("cli:root", "user.unlock"),
        ("cli:root", "user.disable"),
        ("cli:root", "user.enable"),
    ]
    assert all(NEW_PASSWORD not in e.detail for e in entries)


def test_a_password_typed_twice_must_match(config, capsys, monkeypatch):
    """At a terminal the password is asked twice; two different ones create nothing."""
    typed = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(staff_commands.getpass, "getpass", lambda prompt: next(typed))
    result = run(config, capsys, monkeypatch, "users", "create", "anna", "--role", "admin")
    assert result == (2, "", "callrec: The two passwords typed differ.\n")
    assert run(config, capsys, monkeypatch, "users", "list")[1].startswith("no users yet")


def test_a_second_admin_from_the_cli_waits_for_another_person(config, capsys, monkeypatch):
    """Once an admin exists, --role admin is only asked for; root cannot approve it; olga can."""
    create(config, capsys, monkeypatch, "zofia", "--role", "admin")
    status, out, _ = create(config, capsys, monkeypatch, "bob", "--role", "admin")
    assert status == 0
    assert out.splitlines()[1] == "grant 1: the role admin for bob waits for a second admin"
    listed = run(config, capsys, monkeypatch, "users", "grants")[1]
    assert listed.startswith("1  bob  the role admin  asked by cli:root ")
    refused = run(config, capsys, monkeypatch, "users", "approve", "1")
    assert refused == (
        2,
        "",
        "callrec: cli:root asked for grant 1 and may not approve it: another admin must.\n",
    )
    monkeypatch.setattr(entry, "_actor", lambda: "olga")
    approved = run(config, capsys, monkeypatch, "users", "approve", "1")
    assert approved == (0, "grant 1 (the role admin for bob) approved\n", "")
    assert sign_in(config, "bob", PASSWORD).account.roles == {Role.ADMIN}
    entries = on_database(config, lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    grants_entries = [(e.actor, e.action) for e in entries if e.action.startswith("grant.")]
    assert grants_entries == [("cli:root", "grant.request"), ("cli:olga", "grant.approve")]


def test_sudo_names_the_person_who_decides(config, capsys, monkeypatch):
    """Two people using sudo as root are two people: the SUDO_USER is who asks and approves."""
    create(config, capsys, monkeypatch, "zofia", "--role", "admin")
    monkeypatch.setenv("SUDO_USER", "olga")
    create(config, capsys, monkeypatch, "dora", "--role", "dpo")
    assert run(config, capsys, monkeypatch, "users", "approve", "1")[0] == 2
    monkeypatch.setenv("SUDO_USER", "piotr")
    assert run(config, capsys, monkeypatch, "users", "approve", "1")[0] == 0
    entries = on_database(config, lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    decided = [(e.actor, e.action, e.client) for e in entries if e.action.startswith("grant.")]
    assert decided == [
        ("cli:olga", "grant.request", "cli:root sudo:olga"),
        ("cli:piotr", "grant.approve", "cli:root sudo:piotr"),
    ]
