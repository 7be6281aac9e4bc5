"""The staff app in real headless Chromium (Debian's, driven by Playwright; never a download).

Sign in with a TOTP code, search, state a reason and hear the recording load in the
browser's own player; an agent is refused a colleague's call. Screenshots of the main
screens go to ``artifacts/screenshots`` (kept by CI).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright

from callrec_ari.access import Role
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.repository import upsert_calls
from callrec_ari.records import CallRecord
from callrec_ari.web.app import build_web_app
from tests.db.records import finished, ringing
from tests.support.audio import write_speech_like_wav
from tests.web.conftest import PASSWORD, Person

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("CALLREC_ARTIFACTS", "artifacts")) / "screenshots"
# Chromium's own services (updates, sync, safe browsing) would knock on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


class RealClock:
    """Wall-clock time: the authenticator codes typed in the browser are today's."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock() -> RealClock:
    """The web app runs on real time here."""
    return RealClock()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the browser tests are about the pages, the database tests run elsewhere."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    upgrade_to_head(url)
    return url


@pytest.fixture
async def server(settings, clock) -> AsyncIterator[str]:
    """The web app on a loopback port; its base URL."""
    async with TestServer(build_web_app(settings, clock=clock), host="127.0.0.1") as test_server:
        yield str(test_server.make_url("")).rstrip("/")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    assert os.access(CHROMIUM, os.X_OK), "install the Debian packages chromium, chromium-driver"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def calls(settings, session_factory) -> list[CallRecord]:
    """agent100's call and agent200's call, each a two-second recording shaped like speech."""
    made = []
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    for index, agent in enumerate(["agent100", "agent200"]):
        record = finished(ringing(f"1797000000.{index}", start=start + timedelta(minutes=index)))
        assert record.answered_at is not None
        record = dataclasses.replace(
            record,
            agent=agent,
            caller_number=f"4822300000{index}",
            ended_at=record.answered_at + timedelta(seconds=2),
            duration_seconds=2.0,
        )
        path = settings.recording.service_dir / str(record.recording_path)
        write_speech_like_wav(path, seconds=2.0)
        made.append(dataclasses.replace(record, size_bytes=path.stat().st_size))
    async with session_factory() as db, db.begin():
        await upsert_calls(db, made)
    return made


async def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, base: str, who: Person) -> None:
    """Type the password, then the authenticator's current code."""
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", who.username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit] >> text=/Sign in/")
    assert who.secret is not None
    await page.wait_for_url(f"{base}/login/code")
    await page.fill("input[name=code]", pyotp.TOTP(who.secret).now())
    await page.click("button[type=submit] >> text=/Continue/")
    await page.wait_for_url(f"{base}/calls")


async def test_a_supervisor_signs_in_searches_and_plays(
    browser: Browser, server: str, person: Any, calls: list[CallRecord]
):
    """Login with TOTP, the calls list, a reason, then the audio element reaches canplay."""
    sue = await person("sue", Role.SUPERVISOR)
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await page.goto(f"{server}/login")
    await shoot(page, "01-sign-in")
    await sign_in(page, server, sue)
    await page.fill("input[name=agent]", "agent100")
    await page.click("#search button[type=submit]")
    rows = page.locator("#results tbody tr")
    assert await rows.count() == 1
    assert await rows.first.locator(f"a[href='/calls/{calls[0].uniqueid}']").count() == 1
    await shoot(page, "02-calls")
    await page.click(f"a[href='/calls/{calls[0].uniqueid}']")
    await page.select_option("select[name=category]", "complaint")
    await page.fill("textarea[name=reason]", "Customer complaint about a quoted price")
    await shoot(page, "03-reason")
    await page.click("#reason-form button >> nth=0")
    audio = page.locator("audio#recording")
    await audio.wait_for()
    ready = await page.wait_for_function(
        "() => document.querySelector('audio#recording').readyState >= 3", timeout=15_000
    )
    assert await ready.json_value() is True
    duration = await page.evaluate("document.querySelector('audio#recording').duration")
    assert duration == pytest.approx(2.0, abs=0.1)
    await shoot(page, "04-player")


async def test_an_agent_is_refused_a_colleague_s_call(
    browser: Browser, server: str, person: Any, calls: list[CallRecord]
):
    """Typing the address of agent200's call gives agent100 'not found', and no player."""
    piotr = await person("piotr", Role.AGENT, extension="agent100")
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await sign_in(page, server, piotr)
    rows = page.locator("#results tbody tr")
    assert await rows.count() == 1
    assert await rows.first.locator(f"a[href='/calls/{calls[0].uniqueid}']").count() == 1
    response = await page.goto(f"{server}/calls/{calls[1].uniqueid}")
    assert response is not None
    assert response.status == 404
    assert await page.locator("audio").count() == 0
    await shoot(page, "05-agent-refused")


async def test_a_release_is_asked_approved_by_the_director_and_downloaded(
    browser: Browser, server: str, person: Any, calls: list[CallRecord]
):
    """The supervisor asks on the call's page, the director approves, the asker downloads."""
    sue = await person("sue", Role.SUPERVISOR)
    eva = await person("eva", Role.DIRECTOR)
    asker = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await asker.new_page()
    await sign_in(page, server, sue)
    await page.goto(f"{server}/calls/{calls[0].uniqueid}")
    await page.fill("#release-form input[name=recipient]", "District Court, Warsaw")
    await page.fill("#release-form textarea[name=legal_ground]", "Court order II C 118/26")
    await page.click("#release-form button[type=submit]")
    await page.wait_for_url(f"{server}/releases")
    assert await page.locator("#releases a.download").count() == 0

    director = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
    await sign_in(director, server, eva)
    await director.goto(f"{server}/releases")
    await shoot(director, "06-release-to-decide")
    await director.click("form.decision button[value=approve]")
    await director.wait_for_url(f"{server}/releases")
    assert "approved" in await director.locator("#releases tbody tr").first.inner_text()

    await page.reload()
    async with page.expect_download() as waiting:
        await page.click("#releases a.download")
    download = await waiting.value
    saved = Path(await download.path())
    assert await asyncio.to_thread(lambda: saved.stat().st_size) == calls[0].size_bytes
    await page.reload()
    assert await page.locator("#releases a.download").count() == 0
    await shoot(page, "07-release-used")


async def test_the_dpo_and_admin_screens_render_in_their_languages(
    browser: Browser, server: str, person: Any, calls: list[CallRecord]
):
    """The dpo finds a number and reads the trail; the admin's users page, in Polish."""
    anna = await person("anna", Role.DPO)
    ada = await person("ada", Role.ADMIN, language="pl")
    page = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
    await sign_in(page, server, anna)
    await page.goto(f"{server}/subjects?number=%2B48221234567")
    assert await page.locator("#calls tbody tr").count() == 2
    await shoot(page, "08-dpo-subject")
    await page.goto(f"{server}/audit")
    assert await page.locator("#trail tbody tr").count() >= 2  # the sign-in, the lookup
    await shoot(page, "09-dpo-audit")

    admin = await (
        await browser.new_context(
            viewport={"width": 1366, "height": 768}, extra_http_headers={"Accept-Language": "pl"}
        )
    ).new_page()
    await admin.goto(f"{server}/login")
    assert await admin.locator("html").get_attribute("lang") == "pl"
    await admin.fill("input[name=username]", ada.username)
    await admin.fill("input[name=password]", PASSWORD)
    await admin.click("button[type=submit] >> text=/Zaloguj/")
    assert ada.secret is not None
    await admin.wait_for_url(f"{server}/login/code")
    await admin.fill("input[name=code]", pyotp.TOTP(ada.secret).now())
    await admin.click("button[type=submit] >> text=/Dalej/")
    await admin.wait_for_url(f"{server}/calls")
    await admin.goto(f"{server}/admin/users")
    assert await admin.locator("html").get_attribute("lang") == "pl"  # her own language
    assert "anna" in await admin.inner_text("main")
    assert "Użytkownicy" in await admin.inner_text("h1")
    await shoot(admin, "10-admin-users-pl")
