"""Creating and reading accounts: usernames, roles, languages, the password policy."""

from __future__ import annotations

import pytest

from callrec_ari.access import Role
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.staff import accounts
from tests.staff.conftest import NOW, PASSWORD, make_user, raw_trail, stored, trail
from tests.support.passwords import CHEAP_PASSWORDS


async def test_a_new_user_is_stored_with_roles_and_a_hashed_password(session_factory):
    """The account reads back as created; the password is kept only as an argon2id hash."""
    made = await make_user(
        session_factory,
        "  Anna.K  ",
        Role.SUPERVISOR,
        Role.AGENT,
        display_name="Anna Kowalska",
        extension="agent100",
        language="pl",
    )
    assert made.username == "anna.k"
    assert made.roles == frozenset({Role.SUPERVISOR, Role.AGENT})
    assert (made.extension, made.language) == ("agent100", "pl")
    assert (made.totp_enrolled, made.totp_exempt, made.disabled) == (False, False, False)
    assert made.actor.extension == "agent100"
    assert made.actor.roles == made.roles
    async with session_factory() as session:
        assert await accounts.get_account(session, made.id) == made
        assert await accounts.find_account(session, "ANNA.K") == made
    row = await stored(session_factory, "anna.k")
    assert row.password_hash.startswith("$argon2id$")
    assert CHEAP_PASSWORDS.verify(row.password_hash, PASSWORD)
    assert row.created_by == "cli:root"


async def test_creation_is_audited_without_the_password(session_factory):
    """One ``user.create`` entry by its creator, naming roles and extension, no secret."""
    await make_user(session_factory, "anna", Role.ADMIN, extension="100", totp_exempt=True)
    assert await trail(session_factory) == [
        (
            "cli:root",
            "user.create",
            "user:anna",
            {"roles": ["admin"], "extension": "100", "totp_exempt": True},
        )
    ]
    text = await raw_trail(session_factory)
    assert PASSWORD not in text
    assert "argon2" not in text


async def test_a_username_is_unique_whatever_its_case(session_factory):
    """A second "Anna" is refused in one sentence, and nothing more is written."""
    await make_user(session_factory, "anna")
    with pytest.raises(InputError, match=r"^User anna already exists\.$"):
        await make_user(session_factory, "Anna")
    assert len(await trail(session_factory)) == 1


@pytest.mark.parametrize(
    "username", ["a", "-anna", ".anna", "anna k", "anna@example", "ánna", "a" * 65, ""]
)
async def test_bad_usernames_are_refused(session_factory, username):
    """2-64 of a-z, 0-9, dot, underscore and hyphen, starting with a letter or digit."""
    with pytest.raises(InputError, match="is not valid"):
        await make_user(session_factory, username)


async def test_usernames_at_the_limits_are_accepted(session_factory):
    """Two characters, and 64 with every allowed sign."""
    await make_user(session_factory, "ab")
    long_name = "0a._-" + "x" * 59
    assert (await make_user(session_factory, long_name)).username == long_name


async def test_a_user_needs_a_role_a_known_language_and_a_good_password(session_factory):
    """Each mistake is named; none of them creates the user."""
    with pytest.raises(InputError, match="at least one role"):
        async with session_factory() as session, session.begin():
            await accounts.create_user(
                session,
                by="cli:root",
                username="anna",
                display_name="Anna",
                password=PASSWORD,
                passwords=CHEAP_PASSWORDS,
                roles=[],
                now=NOW,
            )
    with pytest.raises(InputError, match="Language de is not one of en, pl, sv, fi, ro"):
        await make_user(session_factory, "anna", language="de")
    with pytest.raises(InputError, match="must not contain the username"):
        await make_user(session_factory, "anna", password="hello-anna-2026")
    with pytest.raises(InputError, match="display name must not be empty"):
        await make_user(session_factory, "anna", display_name="  ")
    with pytest.raises(InputError, match="extension must be at most 128 printable"):
        await make_user(session_factory, "anna", extension="1\n2")
    async with session_factory() as session:
        assert await accounts.list_accounts(session) == []


async def test_unknown_users_are_not_found(session_factory):
    """By id and by name, in one sentence."""
    async with session_factory() as session:
        with pytest.raises(NotFoundError, match=r"^User 42 does not exist\.$"):
            await accounts.get_account(session, 42)
        with pytest.raises(NotFoundError, match=r"^User bob does not exist\.$"):
            await accounts.find_account(session, "bob")


async def test_the_list_is_by_username_with_each_users_roles(session_factory):
    """Everyone, alphabetically, with their own roles."""
    await make_user(session_factory, "zofia", Role.DPO)
    await make_user(session_factory, "adam", Role.ADMIN, Role.DIRECTOR)
    await make_user(session_factory, "marek")
    async with session_factory() as session:
        listed = await accounts.list_accounts(session)
    assert [(a.username, sorted(a.roles)) for a in listed] == [
        ("adam", ["admin", "director"]),
        ("marek", ["agent"]),
        ("zofia", ["dpo"]),
    ]
