"""The service's periodic jobs, run one round at a time with an injected sleep."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from callrec_ari.access import Actor, Role
from callrec_ari.app import build_app
from callrec_ari.config import Settings, parse
from callrec_ari.db.models import DoNotRecord
from callrec_ari.db.models import RouteChange as RouteRow
from callrec_ari.db.repository import find_record, upsert_calls
from callrec_ari.flow.do_not_record import DoNotRecordList
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.housekeeping import (
    Pacer,
    count_overdue_periodically,
    import_register,
    purge_periodically,
    refresh_do_not_record,
    refresh_routes,
)
from callrec_ari.profile.changes import ProfileChanges
from callrec_ari.prompts.versions import PromptVersions
from callrec_ari.records import RecordingStatus
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import route_change
from callrec_ari.supervision import Backoff, TaskStatus
from tests.ari.fake_server import FakeAsterisk, Reply
from tests.db.records import finished, ringing
from tests.flow.conftest import EXAMPLE, example_settings
from tests.flow.test_states import arrival
from tests.support.audio import write_wav

NOW = datetime(2027, 6, 1, tzinfo=UTC)


class RoundsDoneError(Exception):
    """Raised by the injected sleep once the wanted number of rounds has run."""


def rounds(count: int, delays: list[float]):
    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= count:
            raise RoundsDoneError

    return sleep


async def test_the_list_is_reloaded_and_saved_for_the_next_start(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
):
    """A number added in the database is honoured after the next round, and cached on disk."""
    async with session_factory() as session, session.begin():
        session.add(
            DoNotRecord(number_e164="+48221000001", added_at=NOW, added_by="dpo", reason="Art. 21")
        )
    numbers = DoNotRecordList("PL", tmp_path / "dnr.json")
    delays: list[float] = []
    with pytest.raises(RoundsDoneError):
        await refresh_do_not_record(
            numbers, session_factory, interval_seconds=7, sleep=rounds(1, delays)
        )
    assert delays == [7]
    assert numbers.matches("48221000001")
    restarted = DoNotRecordList("PL", tmp_path / "dnr.json")
    restarted.load()
    assert restarted.matches("0048221000001")


async def test_a_database_outage_keeps_the_last_list_and_is_logged_once(tmp_path: Path):
    """While the database is down the list in memory stays as it was; one warning, not many."""

    def unreachable():
        raise ConnectionRefusedError(111, "refused")

    numbers = DoNotRecordList("PL")
    numbers.replace({"+48221000001"})
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await refresh_do_not_record(numbers, unreachable, interval_seconds=1, sleep=rounds(3, []))
    assert numbers.matches("48221000001")
    assert [log["event"] for log in logs] == ["do_not_record.refresh_failed"]


async def test_each_purge_round_deletes_what_has_expired(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
):
    """The service's own purge removes an expired call's file and anonymises its row."""
    settings = example_settings(tmp_path)
    old = finished(ringing("1700.1", start=NOW - timedelta(days=400)))
    wav = settings.recording.service_dir / str(old.recording_path)
    write_wav(wav, seconds=0.1)
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [old])
    delays: list[float] = []
    with pytest.raises(RoundsDoneError):
        await purge_periodically(
            settings, session_factory, clock=lambda: NOW, sleep=rounds(1, delays)
        )
    assert delays == [settings.lifecycle.purge_interval_seconds]
    assert not wav.exists()
    async with session_factory() as session:
        row = await find_record(session, "1700.1")
    assert row is not None
    assert row.recording_status == RecordingStatus.DELETED
    assert row.caller_number is None


class FlowHolder:
    """Stands in for the controller: keeps the flow it was last told to use."""

    def __init__(self) -> None:
        self.flows: list[ConsentFlow] = []
        self.versions = PromptVersions()

    def use_flow(self, flow: ConsentFlow) -> None:
        self.flows.append(flow)

    @property
    def flow(self) -> ConsentFlow | SimpleNamespace:
        """The flow in use; a new one keeps its prompt versions (only those are read here)."""
        return self.flows[-1] if self.flows else SimpleNamespace(versions=self.versions)


async def test_a_route_changed_by_the_admin_routes_new_calls_and_is_saved(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
):
    """After the next round new calls get the admin's route, and the disk copy has it."""
    settings = example_settings(tmp_path)
    change = route_change(
        "5552000",
        languages=["ro"],
        prompt="announcement",
        retention="days-7",
        on_decline="connect",
    )
    async with session_factory() as db, db.begin():
        await routing.set_route(
            db, by=Actor.of("ada", Role.ADMIN), settings=settings, change=change, now=NOW
        )
    holder = FlowHolder()
    cache = tmp_path / "journal" / "routes.json"
    with pytest.raises(RoundsDoneError):
        await refresh_routes(
            holder, settings, session_factory, cache=cache, last=([], []), sleep=rounds(3, [])
        )
    [flow] = holder.flows  # changed once, then the same changes are not applied again
    assert flow.versions is holder.versions  # the prompt versions carry over
    call, _ = flow.start(arrival("5552000"))
    assert call.record.languages == ("ro",)
    assert routing.load_cache(cache) == ([], [change], ProfileChanges())


async def test_routes_survive_a_database_outage(tmp_path: Path):
    """While the database is down the routes stay as they were; one warning."""

    def unreachable():
        raise ConnectionRefusedError(111, "refused")

    holder = FlowHolder()
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await refresh_routes(
            holder,
            example_settings(tmp_path),
            unreachable,
            cache=tmp_path / "routes.json",
            last=([], []),
            sleep=rounds(3, []),
        )
    assert holder.flows == []
    assert [log["event"] for log in logs] == ["routes.refresh_failed"]


class CountingImporter:
    """A register importer that counts rounds and fails as told."""

    def __init__(self, path: Path, failures: int = 0) -> None:
        self.path = path
        self.rounds = 0
        self.failures = failures
        self.ran = asyncio.Event()

    async def import_once(self) -> int:
        self.rounds += 1
        self.ran.set()
        if self.rounds <= self.failures:
            raise PermissionError(13, "Permission denied")
        return 0

    async def next_round(self) -> None:
        """Wait until one more round has run."""
        await asyncio.wait_for(self.ran.wait(), 5)
        self.ran.clear()


async def test_the_register_is_imported_at_once_and_on_every_wake(tmp_path: Path):
    """The first round runs at start, the next when an ARI connection sets the event, long
    before the interval; a folder it may not write is logged once per outage."""
    importer = CountingImporter(tmp_path / "unrecorded-calls.log", failures=2)
    wake = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(
            import_register(importer, interval_seconds=3600, wake=wake)  # type: ignore[arg-type]
        )
        await importer.next_round()
        wake.set()
        await importer.next_round()
        wake.set()
        await importer.next_round()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert importer.rounds == 3
    failures = [line for line in logs if line["event"] == "register.import_failed"]
    assert len(failures) == 1
    assert "Permission denied" in failures[0]["error"]


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk on loopback that the service connects to, stopped after the test."""
    server = FakeAsterisk()
    await server.start()
    yield server
    await server.stop()


def service_settings(tmp_path: Path, database_url: str, ari_url: str) -> Settings:
    """The example config on this database and fake Asterisk, with quick periodic jobs."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "rec")}
    data["database"].update(url=database_url, journal_dir=str(tmp_path / "journal"))
    data["ari"].update(url=ari_url, reconnect_min_seconds=0.01, reconnect_max_seconds=0.05)
    data["lifecycle"]["purge_interval_seconds"] = 0.05
    data["service"]["settings_refresh_seconds"] = 0.05
    return parse(data, {}, base_dir=tmp_path)


async def health(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    """``GET /healthz``: its status and body."""
    response = await client.get("/healthz")
    return response.status, await response.json()


async def until_health(client: TestClient[Any, Any], wanted: int) -> dict[str, Any]:
    """Poll ``/healthz`` until it answers ``wanted``; its body then."""
    async with asyncio.timeout(10):
        while True:
            status, body = await health(client)
            if status == wanted:
                return body
            await asyncio.sleep(0.02)


async def test_a_purge_crash_is_logged_restarted_and_shown_until_fixed(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    fake_ari: FakeAsterisk,
    tmp_path: Path,
):
    """The issue's case: a stored route whose on_decline is invalid makes every purge round
    raise. The traceback is logged, the purge restarts with a growing delay, /healthz answers
    503 naming it; once the row is fixed the purge runs again, deletes the expired recording,
    and /healthz is 200."""
    fake_ari.reply("GET", "/ari/channels", Reply(json=[]))
    settings = service_settings(tmp_path, database_url, fake_ari.url)
    old = finished(ringing("1700.1", start=NOW - timedelta(days=4000)))
    wav = settings.recording.service_dir / str(old.recording_path)
    write_wav(wav, seconds=0.1)
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [old])
        session.add(
            RouteRow(
                did="5559999",
                languages="en",
                prompt="announcement",
                retention="months-6",
                on_decline="nonsense",
                changed_at=NOW,
                changed_by="ada",
            )
        )
    app = build_app(settings, backoff=Backoff(min_seconds=0.01, max_seconds=0.1))
    with capture_logs() as logs:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            body = await until_health(client, 503)
            async with asyncio.timeout(10):
                # On a loaded machine the event socket may connect after the third restart.
                while body["tasks"]["purge"]["restarts"] < 3 or not body["ari_connected"]:
                    body = (await health(client))[1]
            assert "purge" in body["tasks_failing"]
            assert body["tasks"]["purge"]["state"] == "failing"
            assert "ValueError" in body["tasks"]["purge"]["last_error"]
            assert "nonsense" in body["tasks"]["purge"]["last_error"]
            assert wav.exists()  # not purged while the task is failing

            async with session_factory() as session, session.begin():
                row = await session.get(RouteRow, "5559999")
                assert row is not None
                row.on_decline = "connect"
            body = await until_health(client, 200)
            assert body["tasks_failing"] == []
            assert body["tasks"]["purge"]["state"] == "running"
            assert body["tasks"]["purge"]["last_success"] is not None
            assert not wav.exists()
    crashes = [line for line in logs if line["event"] == "task.crashed" and line["task"] == "purge"]
    assert len(crashes) >= 3
    assert isinstance(crashes[0]["exc_info"], ValueError)
    delays = [line["restart_in_seconds"] for line in crashes[:4]]
    assert delays == sorted(delays)
    assert delays[0] < delays[-1]  # the delay grows


async def test_the_service_s_purge_rests_as_long_as_each_batch_worked():
    """Between batches the pacer sleeps as long as the batch took (times the ratio), and the
    next batch's time counts from the end of that rest."""
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(1.0, monotonic=lambda: now[0], sleep=sleep)
    now[0] += 0.3  # the first batch
    await pacer()
    now[0] += 0.1  # the second
    await pacer()
    assert slept == pytest.approx([0.3, 0.1])
    half = Pacer(0.5, monotonic=lambda: now[0], sleep=sleep)
    now[0] += 0.4
    await half()
    assert slept[-1] == pytest.approx(0.2)


async def test_the_overdue_count_runs_at_start_and_again_after_a_purge(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
):
    """The first count is reported at once; a purge's wake-up brings the next one long before
    the timer, after the rest; a database that cannot be read is a failed round, logged once."""
    settings = service_settings(tmp_path, database_url, "http://127.0.0.1:9")
    old = ringing("1700.1", start=NOW - timedelta(days=400))
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [old])
    counts: asyncio.Queue[int] = asyncio.Queue()
    rests: list[float] = []
    wake = asyncio.Event()
    status = TaskStatus("overdue-count")

    async def rest(seconds: float) -> None:
        rests.append(seconds)

    def job(sessions: Any) -> asyncio.Task[None]:
        return asyncio.create_task(
            count_overdue_periodically(
                settings,
                sessions,
                report=counts.put_nowait,
                clock=lambda: NOW,
                wake=wake,
                interval_seconds=3600,
                rest_seconds=30,
                sleep=rest,
                rounds=status,
            )
        )

    task = job(session_factory)
    assert await asyncio.wait_for(counts.get(), 5) == 1
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [ringing("1700.2", start=NOW - timedelta(days=400))])
    wake.set()
    assert await asyncio.wait_for(counts.get(), 5) == 2
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rests[:2] == [30, 30]

    def unreachable() -> AsyncSession:
        raise ConnectionRefusedError(111, "Connection refused")

    with capture_logs() as logs:
        task = job(unreachable)
        async with asyncio.timeout(5):
            while status.rounds_failed < 3:
                wake.set()
                await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert counts.empty()
    assert "could not be counted" in str(status.last_error)
    assert [line["event"] for line in logs] == ["overdue.count_failed"]
