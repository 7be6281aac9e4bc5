"""Racing the lock-out and enrolment, and telling names apart: guesses sent in parallel
from forty addresses evaluate no more wrong passwords than the lock allows, an unknown name
answers byte for byte as a locked account does, and only one of two people past the
password enrols an authenticator."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.staff.passwords import Passwords
from callrec_ari.web.app import build_web_app
from callrec_ari.web.keys import PASSWORDS
from tests.support.passwords import CHEAP
from tests.web.conftest import PASSWORD, Clock, csrf_of, web_config

GUESSES = 40


@pytest.fixture
def settings(tmp_path, database_url):
    """Throttling per address set high: these tests are about the lock, not the bucket."""
    (tmp_path / "recordings").mkdir()
    return web_config(tmp_path, database_url, signin_burst=1000, signin_per_minute=1000)


@pytest.fixture
async def client(settings, clock: Clock) -> AsyncIterator[TestClient[Any, Any]]:
    """The web app on loopback with room for every guess to be checked at once."""
    app = build_web_app(settings, clock=clock)
    app[PASSWORDS] = Passwords(CHEAP, threads=8, waiting=GUESSES)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def browser(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser on its own loopback address, keeping its cookies."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    jar = aiohttp.CookieJar(unsafe=True)  # the server is named by its IP address
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        yield session


async def attempt(client, address: str, username: str, password: str) -> tuple[int, str]:
    """One sign-in from ``address``: the status and the page."""
    async with browser(address) as session:
        form = await session.get(client.make_url("/login"))
        response = await session.post(
            client.make_url("/login"),
            data={
                "csrf": csrf_of(await form.text()),
                "username": username,
                "password": password,
                "next": "/calls",
            },
            allow_redirects=False,
        )
        return response.status, await response.text()


async def failures(session_factory, username: str) -> list[str]:
    """The reasons of the user's refused sign-ins, as the trail has them."""
    async with session_factory() as db:
        rows = await db.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == username, AuditEntry.action == "login.failed")
            .order_by(AuditEntry.seq)
        )
        return [json.loads(row.detail)["reason"] for row in rows]


async def test_parallel_guesses_evaluate_no_more_than_the_lock_allows(
    client, person, session_factory
):
    """Forty wrong passwords at once: five are checked, thirty-five refused as locked, and
    then the right password is refused too."""
    await person("anna", Role.ADMIN)
    answers = await asyncio.gather(
        *(attempt(client, f"127.0.0.{n + 2}", "anna", f"guess {n}") for n in range(GUESSES))
    )
    assert {status for status, _ in answers} == {401}
    reasons = await failures(session_factory, "anna")
    assert reasons.count("password") == 5
    assert reasons.count("locked") == GUESSES - 5
    status, page = await attempt(client, "127.0.0.99", "anna", PASSWORD)
    assert status == 401
    assert "This account is locked until 2026-12-01 09:15:00 UTC." in page


async def test_the_right_password_in_a_parallel_flood_is_never_accepted_once_locked(
    client, person, session_factory
):
    """Thirty-nine wrong and one right at once: at most five wrong are checked, and the
    right one gets in only if it was among the first five claims."""
    await person("anna", Role.ADMIN)
    guesses = [f"guess {n}" for n in range(GUESSES - 1)]
    guesses.insert(GUESSES // 2, PASSWORD)
    answers = await asyncio.gather(
        *(attempt(client, f"127.0.0.{n + 2}", "anna", g) for n, g in enumerate(guesses))
    )
    reasons = await failures(session_factory, "anna")
    checked_wrong = reasons.count("password")
    accepted = [status for status, _ in answers].count(303)
    assert checked_wrong <= 5
    assert accepted <= 1
    assert reasons.count("locked") == GUESSES - checked_wrong - accepted


async def test_an_unknown_name_answers_exactly_as_a_locked_account(client, person, clock):
    """Five failures each, then one more: the same statuses and the same pages, word for
    word, for anna (locked) and for a name nobody has."""
    await person("anna", Role.ADMIN)
    known = [await attempt(client, "127.0.0.2", "anna", "wrong one") for _ in range(6)]
    unknown = [await attempt(client, "127.0.0.3", "ghost", "wrong one") for _ in range(6)]
    assert [status for status, _ in known] == [status for status, _ in unknown] == [401] * 6
    for (_, anna_page), (_, ghost_page) in zip(known, unknown, strict=True):
        # The pages differ in the CSRF token of each browser and the name typed, nothing else.
        assert without(anna_page, "anna") == without(ghost_page, "ghost")
    assert "Wrong username or password." in unknown[4][1]
    assert "This account is locked until 2026-12-01 09:15:00 UTC." in unknown[5][1]


def without(page: str, username: str) -> str:
    """The page with the typed username and the browser's CSRF token blanked out."""
    return page.replace(csrf_of(page), "TOKEN").replace(f'value="{username}"', 'value=""')


async def test_only_the_first_of_two_people_past_the_password_enrols(
    client, person, clock, session_factory
):
    """Two browsers get past ewa's password before she enrolled; each is shown its own
    secret; the first to confirm enrols, the second is refused, and the first secret stays."""
    await person("ewa", Role.ADMIN, enrolled=False)
    async with browser("127.0.0.2") as first, browser("127.0.0.3") as second:
        secrets, tokens = [], []
        for session in (first, second):
            form = await session.get(client.make_url("/login"))
            signed = await session.post(
                client.make_url("/login"),
                data={"csrf": csrf_of(await form.text()), "username": "ewa", "password": PASSWORD},
                allow_redirects=False,
            )
            assert signed.headers["Location"] == "/login/enrol"
            page = await (await session.get(client.make_url("/login/enrol"))).text()
            secrets.append(page.split('id="totp-secret">', 1)[1].split("<", 1)[0].strip())
            tokens.append(csrf_of(page))
        assert secrets[0] != secrets[1]
        answers = []
        for session, secret, token in zip((first, second), secrets, tokens, strict=True):
            response = await session.post(
                client.make_url("/login/enrol"),
                data={"csrf": token, "code": pyotp.TOTP(secret).at(clock())},
                allow_redirects=False,
            )
            answers.append((response.status, await response.text()))
    assert answers[0][0] == 303
    assert answers[1][0] == 400
    assert "User ewa has set up two-factor sign-in already." in answers[1][1]
    async with session_factory() as db:
        enrolments = await db.scalars(select(AuditEntry).where(AuditEntry.action == "totp.enrol"))
        assert len(list(enrolments)) == 1
