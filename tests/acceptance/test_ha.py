"""Two callrec instances on one Asterisk; one is killed with SIGKILL during a run of calls.

Both run ``callrec run`` as processes of their own (applications callrec-a and callrec-b)
on one SQLite file, each with its own journal. The dialplan offers every call to both with
``StasisBroadcast()`` (README, "Two instances"). Only the calls in the killed instance's
hands may go unrecorded, and those are still connected; every later call is recorded, and
every call has exactly one row, also after the killed instance is back and has replayed its
journal.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from callrec_ari.ari.client import AriClient
from callrec_ari.db import lookup
from callrec_ari.db.models import Call
from callrec_ari.db.session import open_sessions
from callrec_ari.evidence.facts import Kind
from callrec_ari.recording.paths import service_path
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.sipp import CallerScript, SippAgent, place_calls
from tests.acceptance.conftest import (
    QUICK_DID,
    acceptance_config,
    sandbox_settings,
    sha256_of,
    until,
)

pytestmark = pytest.mark.asterisk

CALLS = 14
LEASE_SECONDS = 2.0
APPS = ("callrec-a", "callrec-b")
BROADCAST = "CALLREC_BROADCAST"  # the dialplan's switch to StasisBroadcast()


@dataclass
class Pair:
    """The two instances and the database they share."""

    a: ServiceProcess
    b: ServiceProcess
    url: str


def instance_config(base: dict[str, Any], tmp_path: Path, app: str, peer: str) -> dict[str, Any]:
    """The shared config as one instance runs it: its own application, peer and journal."""
    config = copy.deepcopy(base)
    config["ari"]["app"] = app
    config["ha"] = {"peers": [peer], "lease_seconds": LEASE_SECONDS}
    config["database"]["journal_dir"] = str(tmp_path / f"journal-{app}")
    return config


@pytest.fixture
async def pair(asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path) -> AsyncIterator[Pair]:
    """callrec-a and callrec-b running, and the dialplan offering each call to both."""
    base = acceptance_config(asterisk, tmp_path)
    base["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    a, b = (
        ServiceProcess(instance_config(base, tmp_path, app, peer), tmp_path / app)
        for app, peer in (APPS, APPS[::-1])
    )
    ari = sandbox_settings(asterisk, tmp_path).ari
    async with aiohttp.ClientSession() as session:
        globals_ = AriClient(session, ari)
        await globals_.set_global(BROADCAST, "^callrec-[ab]$")
        try:
            for process in (a, b):
                await asyncio.to_thread(process.migrate)
                await asyncio.to_thread(process.start)
            yield Pair(a=a, b=b, url=base["database"]["url"])
        finally:
            a.stop()
            b.stop()
            await globals_.set_global(BROADCAST, "")  # the sandbox's next test: one instance


async def test_killing_one_of_two_instances_loses_only_the_calls_in_its_hands(
    pair: Pair, asterisk: AsteriskSandbox, tmp_path: Path, record_property
):
    """kill -9 of callrec-a mid-run: its calls connected, later calls recorded, one row each."""
    started = time.time()
    settings = sandbox_settings(asterisk, tmp_path)
    listen = int(announcement_seconds(settings, QUICK_DID) * 1000) + 1500
    # [call_number] gives each call its own caller number: 48221, 48222, ...
    script = CallerScript(did=QUICK_DID, caller="4822[call_number]", wait_ms=listen, talk_ms=4000)
    run = asyncio.create_task(
        place_calls(asterisk.settings, script, tmp_path / "caller", calls=CALLS, rate=1)
    )
    # Kill A while it holds calls both in the announcement and in conversation (as its rows
    # say: a call takes 8.3 s, its conversation starts 2.8 s in).
    await until(lambda: holds_both(pair.url), within=20, step=0.05)
    held = pair.a.health()
    killed_at = time.time()
    pair.a.kill()
    await until(lambda: pair.b.health().get("peers", {}).get(APPS[0], {}).get("alive") is False)
    noticed = time.time() - killed_at
    result = await run
    assert result.ok, result.errors  # every caller was connected and talked to the end
    await asyncio.to_thread(pair.b.wait_idle, 60)
    rows = await lookup.latest(pair.url, 100)

    in_hands = [r for r in rows if r.started_at.timestamp() < killed_at]
    later = [r for r in rows if r.started_at.timestamp() >= killed_at]
    unrecorded = [r for r in in_hands if r.recording_status != RecordingStatus.COMPLETE]
    taken = take_over_of(pair.b.log_path)
    # The README's figures (pytest --junitxml keeps them).
    record_property("held_by_killed_instance", held["calls_in_progress"])
    record_property("unrecorded", [r.consent.value for r in unrecorded])
    record_property("dead_noticed_after_seconds", round(noticed, 2))
    record_property("let_through", taken["recovered"])
    record_property("followed_to_the_end", taken["adopted"])
    record_property(
        "stranded_connected_after_seconds",
        [round(connected_at(r) - killed_at, 2) for r in unrecorded],
    )
    assert sorted(r.caller_number for r in rows) == sorted(f"4822{n}" for n in range(1, CALLS + 1))
    assert later
    assert all(recorded(r, settings.recording.service_dir) for r in later)
    # B let through the calls A held in the announcement, and followed and recorded to the
    # end those A held in conversation.
    assert taken["recovered"] + taken["adopted"] <= held["calls_in_progress"]
    assert taken["adopted"] >= 1
    assert len(unrecorded) == taken["recovered"]
    for row in unrecorded:  # let through by B, and talked to the agent
        assert row.consent == Consent.INTERRUPTED
        assert row.answered_at is not None
        assert row.ended_at is not None
    assert noticed < LEASE_SECONDS + 2

    # A comes back and replays its journal: nothing changes, nothing is added.
    await asyncio.to_thread(pair.a.start)
    await asyncio.to_thread(pair.a.wait_idle, 60)
    assert await lookup.latest(pair.url, 100) == rows
    # Every recording this run left on disk belongs to a row that knows it.
    assert mixes_since(settings.recording.service_dir, started) == {
        service_path(settings.recording.service_dir, r.recording_path)
        for r in rows
        if r.recording_path is not None
    }


def recorded(row: CallRecord, recordings: Path) -> bool:
    """Whether the call was recorded to the end, its row holding the file's SHA-256."""
    return (
        row.consent == Consent.GIVEN
        and row.recording_status == RecordingStatus.COMPLETE
        and row.recording_path is not None
        and row.sha256 == sha256_of(service_path(recordings, row.recording_path))
    )


def mixes_since(recordings: Path, since: float) -> set[Path]:
    """The mixes (``<uniqueid>.wav``, not the legs) written since ``since``: the sandbox's
    recordings folder also holds earlier tests' files."""
    return {
        path
        for path in recordings.rglob("*.wav")
        if path.name.count(".") == 2 and path.stat().st_mtime >= since
    }


def connected_at(row: CallRecord) -> float:
    """When the call was handed on without recording (Unix time), from its evidence."""
    return next(f.at for f in row.evidence if f.kind == Kind.UNRECORDED).timestamp()


def take_over_of(log: Path) -> dict[str, Any]:
    """What the surviving instance logged when it took the dead one's calls over."""
    for line in log.read_text().splitlines():
        if '"ha.peer_taken_over"' in line:
            entry: dict[str, Any] = json.loads(line)
            return entry
    raise AssertionError(f"no take-over in {log}")


async def holds_both(url: str) -> bool:
    """Whether callrec-a is following a call in its announcement and one in conversation."""
    async with open_sessions(url) as sessions, sessions() as session:
        consents = await session.scalars(
            select(Call.consent).where(Call.handled_by == APPS[0], Call.ended_at.is_(None))
        )
        held = set(consents)
    return {Consent.PENDING.value, Consent.GIVEN.value} <= held
