"""Sign-in floods: a token bucket per client address, and a bounded number of password
checks at once; another address still signs in while one address floods."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestClient

from callrec_ari.access import Role
from callrec_ari.errors import TooManyAttemptsError
from callrec_ari.staff.passwords import Passwords
from callrec_ari.web.throttle import AttemptBuckets
from tests.support.passwords import CHEAP
from tests.web.conftest import PASSWORD, Clock, csrf, csrf_of

OTHER_ADDRESS = "127.0.0.2"  # loopback too: Linux routes all of 127/8 to lo


def test_a_bucket_allows_the_burst_then_one_per_interval():
    """Ten at once, then the eleventh waits six seconds; after six seconds one more."""
    buckets = AttemptBuckets(burst=10, per_minute=10)
    assert [buckets.take("192.0.2.1", 100.0) for _ in range(10)] == [0] * 10
    assert buckets.take("192.0.2.1", 100.0) == 6
    assert buckets.take("192.0.2.1", 103.0) == 3
    assert buckets.take("192.0.2.1", 106.0) == 0
    assert buckets.take("192.0.2.1", 106.0) == 6


def test_each_address_has_its_own_bucket():
    """One address used up does not slow another."""
    buckets = AttemptBuckets(burst=2, per_minute=1)
    for _ in range(3):
        buckets.take("192.0.2.1", 0.0)
    assert buckets.take("192.0.2.2", 0.0) == 0


def test_a_successful_sign_in_gives_its_attempt_back():
    """Staff behind one address who sign in correctly do not use up the bucket."""
    buckets = AttemptBuckets(burst=1, per_minute=1)
    assert buckets.take("192.0.2.1", 0.0) == 0
    buckets.give_back("192.0.2.1")
    assert buckets.take("192.0.2.1", 0.0) == 0


def test_the_buckets_remember_a_bounded_number_of_addresses():
    """A flood from many addresses costs bounded memory: the oldest is forgotten."""
    buckets = AttemptBuckets(burst=1, per_minute=1, capacity=2)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        buckets.take(address, 0.0)
    assert buckets.take("192.0.2.1", 0.0) == 0  # forgotten: a fresh bucket
    assert buckets.take("192.0.2.3", 0.0) == 60


async def test_password_checks_beyond_the_places_are_refused_at_once():
    """With every place taken, the next check is refused without waiting, naming when to
    retry; one address never holds two places."""
    passwords = Passwords(CHEAP, threads=1, waiting=1)
    try:
        with passwords.reserved("192.0.2.1"):
            with pytest.raises(TooManyAttemptsError) as same, passwords.reserved("192.0.2.1"):
                pass
            with (
                passwords.reserved("192.0.2.2"),
                pytest.raises(TooManyAttemptsError) as full,
                passwords.reserved("192.0.2.3"),
            ):
                pass
        assert same.value.retry_after == full.value.retry_after == 2
        assert str(full.value) == (
            "Too many sign-in attempts are being checked; try again in 2 seconds."
        )
        with passwords.reserved("192.0.2.3"):  # the places were given back
            assert await passwords.check(passwords.hash("a password"), "a password")
    finally:
        passwords.close()


async def post_login(client: TestClient[Any, Any], username: str, password: str):
    token = await csrf(client)
    return await client.post(
        "/login",
        data={"csrf": token, "username": username, "password": password, "next": "/calls"},
        allow_redirects=False,
    )


async def test_an_address_over_its_bucket_gets_429_with_retry_after(client, person):
    """The eleventh attempt in a row from one address: 429, Retry-After, one sentence."""
    await person("anna", Role.SUPERVISOR)
    for _ in range(10):
        response = await post_login(client, "anna", "guessing the password")
        assert response.status == 401
    refused = await post_login(client, "anna", "guessing the password")
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "6"
    assert "Too many sign-in attempts; try again in 6 seconds." in await refused.text()


async def test_the_bucket_refills_with_time(client, person, clock: Clock):
    """Six seconds after the bucket ran dry, one more attempt is checked."""
    await person("anna", Role.SUPERVISOR)
    for _ in range(11):
        await post_login(client, "anna", "guessing the password")
    clock.advance(seconds=6)
    assert (await post_login(client, "anna", "guessing the password")).status == 401


async def sign_in_from(client: TestClient[Any, Any], address: str, who, clock: Clock) -> int:
    """A browser on ``address`` signs in with password and code; the final status."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    # unsafe=True: keep cookies of a server named by its IP address, as a browser does.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as browser:
        page = await browser.get(client.make_url("/login"))
        token = csrf_of(await page.text())
        response = await browser.post(
            client.make_url("/login"),
            data={"csrf": token, "username": who.username, "password": PASSWORD, "next": "/"},
            allow_redirects=False,
        )
        if response.status != 303:
            return response.status
        page = await browser.get(client.make_url("/login/code"))
        response = await browser.post(
            client.make_url("/login/code"),
            data={"csrf": csrf_of(await page.text()), "code": pyotp.TOTP(who.secret).at(clock())},
            allow_redirects=False,
        )
        return response.status


async def test_a_real_user_signs_in_from_another_address_while_one_floods(
    client, person, clock: Clock
):
    """Sixty parallel guesses from 127.0.0.1; anna on 127.0.0.2 still gets in, and the
    flood is mostly refused at once instead of queueing for the hashing threads."""
    anna = await person("anna", Role.SUPERVISOR)
    await person("bob", Role.SUPERVISOR)
    flood = [post_login(client, "bob", f"guess {n}") for n in range(60)]
    *answers, anna_status = await asyncio.gather(
        *flood, sign_in_from(client, OTHER_ADDRESS, anna, clock)
    )
    assert anna_status == 303
    statuses = [answer.status for answer in answers]
    assert statuses.count(429) >= 50
    assert set(statuses) <= {401, 429}
