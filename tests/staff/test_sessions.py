"""Whether a signed-in session still counts, and signing out ending every copy of it."""

from __future__ import annotations

from datetime import timedelta

from callrec_ari.access import Role
from callrec_ari.staff import accounts
from callrec_ari.staff.sessions import session_account, sign_out
from tests.staff.conftest import CLI_ADMIN, CLIENT, NOW, make_user, stored, trail
from tests.support.passwords import CHEAP_PASSWORDS

BEFORE = NOW - timedelta(minutes=5)


async def test_a_session_of_an_active_account_counts(session_factory):
    """Never revoked: the account, with its roles, whenever the session signed in."""
    made = await make_user(session_factory, "anna", Role.SUPERVISOR)
    async with session_factory() as session:
        assert await session_account(session, made.id, signed_in_at=BEFORE) == made
        assert await session_account(session, made.id, signed_in_at=None) == made


async def test_a_missing_or_disabled_account_has_no_session(session_factory):
    """An id that names nobody, or a disabled account: ``None``, no error."""
    made = await make_user(session_factory, "anna")
    async with session_factory() as session, session.begin():
        await accounts.set_disabled(session, by=CLI_ADMIN, user_id=made.id, disabled=True, now=NOW)
    async with session_factory() as session:
        assert await session_account(session, made.id + 100, signed_in_at=BEFORE) is None
        assert await session_account(session, made.id, signed_in_at=BEFORE) is None


async def test_signing_out_ends_sessions_signed_in_before_it_and_is_audited(session_factory):
    """Sessions from before the sign-out no longer count, a later sign-in does; one
    ``logout`` entry names the person and the client."""
    made = await make_user(session_factory, "anna")
    async with session_factory() as session, session.begin():
        await sign_out(session, made, now=NOW, client=CLIENT)
    assert (await stored(session_factory, "anna")).sessions_revoked_at == NOW
    async with session_factory() as session:
        assert await session_account(session, made.id, signed_in_at=BEFORE) is None
        assert await session_account(session, made.id, signed_in_at=None) is None
        assert await session_account(session, made.id, signed_in_at=NOW) == made
        later = NOW + timedelta(seconds=1)
        assert await session_account(session, made.id, signed_in_at=later) == made
    assert (await trail(session_factory))[-1] == ("anna", "logout", None, {})


async def test_a_new_password_ends_older_sessions_too(session_factory):
    """The same rule covers the admin's changes that revoke sessions."""
    made = await make_user(session_factory, "anna")
    async with session_factory() as session, session.begin():
        await accounts.set_password(
            session,
            by=CLI_ADMIN,
            user_id=made.id,
            password="a much newer secret",
            passwords=CHEAP_PASSWORDS,
            now=NOW,
        )
    async with session_factory() as session:
        assert await session_account(session, made.id, signed_in_at=BEFORE) is None
