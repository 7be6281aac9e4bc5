"""Repository: snapshots stored under their uniqueid and read back unchanged."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.db.models import Call
from callrec_ari.db.repository import (
    agent_legs_of,
    find_record,
    handlers_of,
    latest_calls,
    unfinished_calls,
    upsert_call,
    upsert_calls,
)
from callrec_ari.records import Consent
from tests.db.records import T0, finished, ringing


async def test_a_stored_call_reads_back_equal(session_factory):
    """Every field, the 64-bit size and the language order included, survives the round trip."""
    record = finished(ringing())
    async with session_factory() as session, session.begin():
        await upsert_call(session, record)
    async with session_factory() as session:
        assert await find_record(session, record.uniqueid) == record


async def test_an_unknown_call_is_none(session_factory):
    """Asking for a call never stored gives None."""
    async with session_factory() as session:
        assert await find_record(session, "no.such.call") is None


async def test_upserting_twice_keeps_one_row_with_the_newest_values(session_factory):
    """A newer snapshot of the same call overwrites the row instead of adding one."""
    first = ringing()
    async with session_factory() as session, session.begin():
        await upsert_call(session, first)
        await upsert_call(session, finished(first))
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Call)) == 1
        assert await find_record(session, first.uniqueid) == finished(first)


async def test_the_same_snapshot_twice_leaves_the_row_untouched(session_factory):
    """Storing an identical snapshot again changes nothing, not even updated_at."""
    record = finished(ringing())
    async with session_factory() as session, session.begin():
        await upsert_call(session, record)
    async with session_factory() as session:
        before = (await session.scalars(select(Call))).one()
    async with session_factory() as session, session.begin():
        await upsert_call(session, record)
    async with session_factory() as session:
        after = (await session.scalars(select(Call))).one()
    assert (after.id, after.created_at, after.updated_at) == (
        before.id,
        before.created_at,
        before.updated_at,
    )


async def test_times_come_back_as_aware_utc(session_factory):
    """A time given in another zone is stored as the same instant and read back in UTC."""
    helsinki = timezone(timedelta(hours=2))
    start = datetime(2026, 11, 24, 11, 30, 15, 654321, tzinfo=helsinki)
    async with session_factory() as session, session.begin():
        await upsert_call(session, ringing(start=start))
    async with session_factory() as session:
        stored = await find_record(session, ringing().uniqueid)
        row = (await session.scalars(select(Call))).one()
    assert stored is not None
    assert stored.started_at == start
    assert stored.started_at.utcoffset() == timedelta(0)
    assert stored.started_at.hour == 9
    assert row.created_at.tzinfo is not None
    assert row.updated_at.utcoffset() == timedelta(0)


async def test_a_naive_time_is_refused(session_factory):
    """A time without a zone cannot be stored, since its instant is unknown."""
    async with session_factory() as session:
        with pytest.raises(StatementError, match="has no timezone"):
            await upsert_call(session, ringing(started_at=datetime(2026, 11, 24, 9, 30)))  # noqa: DTZ001


async def test_latest_calls_are_newest_first(session_factory):
    """latest_calls returns the calls that started last, newest first, up to the limit."""
    records = [ringing(f"17955.{n}", start=T0 + timedelta(minutes=n)) for n in range(5)]
    async with session_factory() as session, session.begin():
        for record in (records[2], records[0], records[4], records[1], records[3]):
            await upsert_call(session, record)
    async with session_factory() as session:
        latest = await latest_calls(session, 3)
    assert [record.uniqueid for record in latest] == ["17955.4", "17955.3", "17955.2"]


async def test_a_call_without_languages_or_caller_reads_back(session_factory):
    """Empty language lists and a withheld number survive the round trip."""
    record = ringing(languages=(), caller_number=None)
    async with session_factory() as session, session.begin():
        await upsert_call(session, record)
    async with session_factory() as session:
        assert await find_record(session, record.uniqueid) == record


async def test_a_snapshot_that_got_less_far_never_overwrites_the_row(session_factory):
    """An instance replaying its journal after another finished its call changes nothing:
    its stale snapshots (announcing, then connected) lose to the stored ended one."""
    first = ringing()
    done = dataclasses.replace(first, consent=Consent.INTERRUPTED, ended_at=T0)
    connected = dataclasses.replace(first, consent=Consent.GIVEN, recording_path="x.wav")
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [done], handled_by="callrec-b")
        await upsert_calls(session, [first], handled_by="callrec-a")
        await upsert_calls(session, [connected], handled_by="callrec-a")
    async with session_factory() as session:
        assert await find_record(session, first.uniqueid) == done
        assert await handlers_of(session, [first.uniqueid, "no.such"]) == {
            first.uniqueid: "callrec-b"
        }


async def test_the_instance_taking_a_call_over_becomes_its_handler(session_factory):
    """The same snapshot written by another instance only moves ``handled_by`` to it."""
    record = ringing()
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [record], handled_by="callrec-a")
        await upsert_calls(session, [record], handled_by="callrec-b")
    async with session_factory() as session:
        assert await handlers_of(session, [record.uniqueid]) == {record.uniqueid: "callrec-b"}


async def test_unfinished_calls_of_chosen_instances(session_factory):
    """A restarted instance adopts its own and unstamped rows; a peer's only when asked."""
    rows = {"1.1": "callrec-a", "1.2": "callrec-b", "1.3": None}
    async with session_factory() as session, session.begin():
        for uniqueid, handler in rows.items():
            await upsert_calls(session, [ringing(uniqueid)], handled_by=handler)
        await upsert_calls(session, [finished(ringing("1.4"))], handled_by="callrec-a")

    async def ids(handled_by: list[str | None] | None) -> set[str]:
        async with session_factory() as session:
            found = await unfinished_calls(session, 10, handled_by=handled_by)
        return {record.uniqueid for record in found}

    assert await ids(None) == {"1.1", "1.2", "1.3"}
    assert await ids(["callrec-a", None]) == {"1.1", "1.3"}
    assert await ids(["callrec-b"]) == {"1.2"}
    assert await ids([]) == set()


async def test_a_row_keeps_the_node_that_first_wrote_it(session_factory):
    """Rows say which PBX node recorded them; a later writer never renames the node, and a
    row from before nodes takes the first node that writes it again."""
    record, old = ringing("pbx-a-1.1"), ringing("1.2")
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [record], node="pbx-a")
        await upsert_calls(session, [finished(record)], node="pbx-b")
        await upsert_calls(session, [old])
        await upsert_calls(session, [old], node="pbx-b")
    async with session_factory() as session:
        nodes = dict((await session.execute(select(Call.uniqueid, Call.node))).all())
    assert nodes == {"pbx-a-1.1": "pbx-a", "1.2": "pbx-b"}


async def test_a_transferred_calls_agents_are_stored_beside_it_and_only_ever_end(
    session_factory,
):
    """Both agents' legs read back with the call; a stale snapshot (the second agent's leg
    still open, or missing) replayed later never reopens or removes a leg."""
    first = AgentLeg(
        agent="agent100", channel_id="1795514342.7", joined_at=T0, left_at=T0 + timedelta(5)
    )
    second = AgentLeg(agent="agent101", channel_id="1795514343.8", joined_at=T0 + timedelta(6))
    talking = dataclasses.replace(ringing(), agent="agent100", agent_legs=(first, second))
    done = dataclasses.replace(
        finished(talking),
        agent_legs=(first, dataclasses.replace(second, left_at=T0 + timedelta(9))),
    )
    async with session_factory() as session, session.begin():
        await upsert_call(session, talking)
        await upsert_call(session, done)
    async with session_factory() as session, session.begin():
        await upsert_call(session, talking)
        await upsert_call(session, dataclasses.replace(talking, agent_legs=()))
    async with session_factory() as session:
        assert await find_record(session, done.uniqueid) == done
        assert (await agent_legs_of(session, [done.uniqueid, "no.such.call"])) == {
            done.uniqueid: done.agent_legs
        }
