"""Acceptance fixtures: a real Asterisk 22 in a chroot, sipp phones, and the real service.

The sandbox starts once per session (its root file system is cached outside the repo) on the
first free numbered slot, so a person's running sandbox, another test run and every
pytest-xdist worker each have an instance of their own. Each test gets its own service
instance on a fresh SQLite database, running in the test's loop.
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import os
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from callrec_ari.access import Role
from callrec_ari.app import CONTROLLER, EVENTS, WRITER, build_app
from callrec_ari.config import Settings, parse, read
from callrec_ari.db import lookup
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.recording.paths import service_path
from callrec_ari.records import CallRecord
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.session import PROJECT_DIR, SandboxSession, sandbox_config
from callrec_ari.sandbox.sipp import AUDIO_PCAP, CallerScript, CallResult, SippAgent, place_calls
from callrec_ari.sandbox.tones import tone_pcap
from callrec_ari.staff import accounts
from tests.support.passwords import CHEAP_PASSWORDS
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.asterisk

CACHE = Path(os.environ.get("CALLREC_SANDBOX_CACHE", "/var/cache/callrec"))


@pytest.fixture(scope="session")
def sandbox_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxSession]:
    """Asterisk 22 with callrec's dialplan and prompts, and one staff phone (agent100)."""
    session = SandboxSession.claim(
        CACHE, command="pytest (acceptance tests)", workdir=tmp_path_factory.mktemp("sandbox")
    )
    session.start()
    yield session
    session.stop()


@pytest.fixture
def asterisk(sandbox_session: SandboxSession) -> AsteriskSandbox:
    """The running Asterisk sandbox (restarted if an earlier test stopped it)."""
    assert sandbox_session.asterisk is not None
    if not sandbox_session.asterisk.ari_ready():
        sandbox_session.asterisk.start()
    return sandbox_session.asterisk


AGENT_HZ = 1150.0  # what the tone staff phone plays: no harmonic of a 440 Hz caller


@pytest.fixture
def tone_agent(sandbox_session: SandboxSession, tmp_path: Path) -> Iterator[SippAgent]:
    """In place of the session's staff phone, one that plays a steady AGENT_HZ tone once it
    has answered; the session's phone is back afterwards."""
    session_agent = sandbox_session.agent
    assert session_agent is not None
    session_agent.stop()
    pcap = tone_pcap(AUDIO_PCAP, tmp_path / "agent-tone.pcap", AGENT_HZ)
    toner = SippAgent(session_agent.phone, tmp_path / "agent", audio_pcap=pcap)
    toner.start()
    try:
        yield toner
    finally:
        toner.stop()
        session_agent.start()


@pytest.fixture
def agent(sandbox_session: SandboxSession) -> SippAgent:
    """The staff phone answering every call routed to agent100."""
    assert sandbox_session.agent is not None
    return sandbox_session.agent


# A line whose announcement is the short decline hint (2.8 s, then the hint itself): for tests
# about what happens around the consent step, not about the announcement, which would
# otherwise make each call wait 25 s.
QUICK_DID = "5550000"


def acceptance_config(
    asterisk: AsteriskSandbox, tmp_path: Path, **overrides: Any
) -> dict[str, Any]:
    """The example config pointed at the sandbox, SQLite in ``tmp_path``, quick reconnects,
    and the quick line ``QUICK_DID``."""
    data = sandbox_config(read(PROJECT_DIR / "config.example.toml"), asterisk)
    data["route"].append(
        {"dids": [QUICK_DID], "languages": ["en"], "prompt": "decline-hint", "retention": "days-7"}
    )
    data["ari"]["reconnect_max_seconds"] = 2
    data["recording"]["finalise_timeout_seconds"] = 10
    data["prompts"]["source_dir"] = str(PROJECT_DIR / "prompts")
    data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    data["database"]["journal_dir"] = str(tmp_path / "journal")
    # The sandbox's own register is shared by every test: only a test that means to import
    # it points register_file there (asterisk.recordings_service_dir / REGISTER_FILE).
    data["dialplan"]["register_file"] = str(tmp_path / "unrecorded-calls.log")
    data["service"]["port"] = 0
    data["web"].update(port=0, secret_key_file=str(tmp_path / "web-secret.key"))
    # Plain WAVs, which most tests look at on disk; tests of encryption turn it on.
    data["encryption"] = {"enabled": False}
    data["audit"] = {  # not the project's var/, shared by every test
        "witness_key_file": str(tmp_path / "audit-witness.key"),
        "witness_file": str(tmp_path / "audit-witness.jsonl"),
    }
    for table, values in overrides.items():
        data.setdefault(table, {}).update(values)
    return data


def sandbox_settings(asterisk: AsteriskSandbox, tmp_path: Path, **overrides: Any) -> Settings:
    """``acceptance_config`` as a ``Settings`` object."""
    return parse(acceptance_config(asterisk, tmp_path, **overrides), {}, base_dir=PROJECT_DIR)


class Service:
    """The callrec service running in the test's event loop."""

    def __init__(self, settings: Settings, asterisk: AsteriskSandbox, workdir: Path) -> None:
        self.settings = settings
        self.asterisk = asterisk
        self.workdir = workdir
        self.app = build_app(settings)
        self.runner = web.AppRunner(self.app)
        self.calls_placed = 0

    async def start(self) -> None:
        await asyncio.to_thread(upgrade_to_head, self.settings.database.url)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        await asyncio.wait_for(self.app[EVENTS].wait_connected(), 15)

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def call(self, script: CallerScript, **options: Any) -> CallResult:
        """Place calls from the trunk and wait for sipp to finish them."""
        self.calls_placed += 1
        workdir = self.workdir / f"caller-{self.calls_placed}"
        return await place_calls(self.asterisk.settings, script, workdir, **options)

    async def settled(self, within: float = 30) -> list[CallRecord]:
        """Wait until no call is in progress and every row is stored; return the rows."""
        await asyncio.wait_for(self.app[CONTROLLER].wait_idle(), within)
        assert await self.app[WRITER].flush(within)
        return await lookup.latest(self.settings.database.url, 100)

    def listen_ms(self, did: str) -> int:
        """How long a caller must stay on to hear the whole announcement for ``did``."""
        return int(announcement_seconds(self.settings, did) * 1000) + 1500

    def wav(self, record: CallRecord) -> Path:
        """Where the service reads the call's recording."""
        assert record.recording_path is not None
        return service_path(self.settings.recording.service_dir, record.recording_path)


@pytest.fixture
async def service(asterisk: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Service]:
    """A running service on the sandbox with the example config."""
    service = Service(sandbox_settings(asterisk, tmp_path), asterisk, tmp_path)
    await service.start()
    yield service
    await service.stop()


def recordings_of(asterisk: AsteriskSandbox, uniqueid: str) -> list[Path]:
    """Every file under the recordings folder whose name starts with the call's id."""
    return sorted(asterisk.recordings_service_dir.rglob(f"{uniqueid}.*"))


def wav_rms(path: Path) -> float:
    """Root-mean-square level of a 16-bit mono WAV (0 means digital silence)."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        assert wav.getnchannels() == 1
        samples = array.array("h", wav.readframes(wav.getnframes()))
    if not samples:
        return 0.0
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


def sha256_of(path: Path) -> str:
    """The file's SHA-256, computed independently of the service."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def asterisk_log(asterisk: AsteriskSandbox) -> str:
    """Everything Asterisk logged in this sandbox instance so far."""
    return asterisk.log_file.read_text(errors="replace")


async def until(condition: Callable[[], Any], within: float = 30, step: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something true, or fail after ``within`` seconds."""
    for _ in range(int(within / step)):
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {within} s")


def setup_delay(result: CallResult, agent: SippAgent, caller: str, prompt_seconds: float) -> float:
    """Seconds from the end of the announcement to the agent's phone ringing, seen on the wire.

    The caller's sipp logs when the PBX answered; the agent's sipp logs when its INVITE came.
    """
    answered = next(
        line.split()[2:4]
        for line in result.log.splitlines()
        if line.startswith(f"answered {caller} ")
    )
    invited = next(
        line.split()[2:4] for line in agent.invites() if line.startswith(f"invite sip:{caller} ")
    )

    def seconds(parts: list[str]) -> float:
        return float(parts[0]) + float(parts[1]) / 1e6

    return seconds(invited) - seconds(answered) - prompt_seconds


async def add_supervisor(url: str) -> None:
    """Sue, a supervisor (password ``PASSWORD``, no second factor), in the database ``url``."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            await accounts.create_user(
                session,
                by="cli:test",
                username="sue",
                display_name="Sue",
                password=PASSWORD,
                passwords=CHEAP_PASSWORDS,
                roles=[Role.SUPERVISOR],
                totp_exempt=True,
                now=datetime.now(UTC),
            )
            await session.commit()
    finally:
        await engine.dispose()


async def imported_from_register(
    asterisk: AsteriskSandbox, tmp_path: Path, register: Path
) -> CallRecord:
    """Start callrec on ``register`` (calls connected while it was down), wait for the one
    row it imports, stop it, and return that row."""
    settings = sandbox_settings(asterisk, tmp_path, dialplan={"register_file": str(register)})
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    try:
        [row] = await until(lambda: lookup.latest(settings.database.url, 10), within=15)
    finally:
        await service.stop()
    return row
