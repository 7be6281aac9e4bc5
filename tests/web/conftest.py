"""Fixtures for the web app: a real app on a migrated database, staff of every role, sign-in."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Role
from callrec_ari.config import Settings, parse
from callrec_ari.db.repository import upsert_calls
from callrec_ari.records import CallRecord
from callrec_ari.staff import accounts
from callrec_ari.web.app import build_web_app
from tests.db.records import T0, finished, ringing
from tests.support.audio import write_wav
from tests.support.passwords import CHEAP_PASSWORDS, CHEAP_TABLE

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """The web app's clock, moved by the tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Person:
    """A member of staff created for a test, with the TOTP secret their phone would hold."""

    username: str
    roles: frozenset[Role]
    extension: str | None
    secret: str | None


def web_config(tmp_path: Path, database_url: str, **web: Any) -> Settings:
    """The example config on this database, recordings and keys under ``tmp_path``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "recordings")}
    data["database"]["url"] = database_url
    data["passwords"] = CHEAP_TABLE
    data["web"].update(secret_key_file=str(tmp_path / "web.key"), **web)
    return parse(data, {}, base_dir=tmp_path)


@pytest.fixture
def clock() -> Clock:
    """Starts on 1 December 2026, 09:00 UTC."""
    return Clock(START)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The web app's settings on the test database."""
    (tmp_path / "recordings").mkdir()
    return web_config(tmp_path, database_url)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[TestClient[Any, Any]]:
    """A browser-like client (cookies kept) of the web app served on loopback."""
    app = build_web_app(settings, clock=clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


MakePerson = Callable[..., Awaitable[Person]]


@pytest.fixture
def person(session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> MakePerson:
    """Create a user with these roles, enrolled in TOTP (unless ``enrolled=False``)."""

    async def make(
        username: str,
        *roles: Role,
        extension: str | None = None,
        enrolled: bool = True,
        exempt: bool = False,
        language: str = "en",
    ) -> Person:
        async with session_factory() as db, db.begin():
            account = await accounts.create_user(
                db,
                by="cli:test",
                username=username,
                display_name=username.title(),
                password=PASSWORD,
                passwords=CHEAP_PASSWORDS,
                roles=roles,
                extension=extension,
                language=language,
                totp_exempt=exempt,
                now=clock(),
            )
        secret = None
        if enrolled and not exempt:
            async with session_factory() as db, db.begin():
                secret, _ = await accounts.start_enrolment(db, user_id=account.id)
                await accounts.confirm_enrolment(
                    db,
                    user_id=account.id,
                    code=pyotp.TOTP(secret).at(clock() - timedelta(seconds=60)),
                    now=clock() - timedelta(seconds=60),
                    client=None,
                )
        return Person(username, frozenset(roles), extension, secret)

    return make


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def csrf(client: TestClient[Any, Any], path: str = "/login") -> str:
    """The session's CSRF token, read from a page as a browser would."""
    response = await client.get(path)
    return csrf_of(await response.text())


async def sign_out(client: TestClient[Any, Any], clock: Clock) -> None:
    """Sign out, and let half a minute pass: the next sign-in needs a fresh code."""
    response = await client.post("/logout", data={"csrf": await csrf(client, "/login")})
    assert response.status == 200  # followed to the sign-in page
    clock.advance(seconds=31)


async def sign_in(client: TestClient[Any, Any], who: Person, clock: Clock) -> None:
    """Sign in with password and, unless exempt, the current TOTP code; land on the calls
    (a trainer, who sees none, on the training library)."""
    token = await csrf(client)
    response = await client.post(
        "/login",
        data={"csrf": token, "username": who.username, "password": PASSWORD, "next": "/calls"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    if who.secret is not None:
        assert response.headers["Location"] == "/login/code"
        token = await csrf(client, "/login/code")
        response = await client.post(
            "/login/code",
            data={"csrf": token, "code": pyotp.TOTP(who.secret).at(clock())},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
    landing = "/training" if who.roles == {Role.TRAINER} else "/calls"
    assert response.headers["Location"] == landing


@pytest.fixture
async def calls(settings, session_factory) -> list[CallRecord]:
    """Two recorded calls: one answered by agent100, one by agent200, with real WAVs."""
    made = []
    for index, agent in enumerate(["agent100", "agent200"]):
        record = finished(ringing(f"1796000000.{index}", start=T0 + timedelta(minutes=index)))
        record = dataclasses.replace(record, agent=agent, caller_number=f"4822100000{index}")
        path = settings.recording.service_dir / str(record.recording_path)
        write_wav(path, seconds=2.0)
        made.append(dataclasses.replace(record, size_bytes=path.stat().st_size))
    async with session_factory() as db, db.begin():
        await upsert_calls(db, made)
    return made
