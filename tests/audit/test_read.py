"""Reading and exporting the trail: the dpo only, filtered, paged, and itself audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.audit.chain import GENESIS, Link, canonical_json, link_hash
from callrec_ari.audit.read import export_entries, read_entries
from callrec_ari.audit.verify import verify_chain
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError
from tests.audit.conftest import NOW, T0, add_entries, head, tamper

DPO = Actor.of("dpo-anna", Role.DPO)
SUPERVISOR = Actor.of("sup-jan", Role.SUPERVISOR, Role.ADMIN, Role.DIRECTOR)


async def read(sessions, actor=DPO, **filters):
    async with sessions() as session, session.begin():
        return await read_entries(session, actor=actor, now=NOW, **filters)


async def export(sessions, fmt, actor=DPO, **filters) -> tuple[int, str]:
    out = io.StringIO()
    async with sessions() as session, session.begin():
        count = await export_entries(session, actor=actor, now=NOW, out=out, fmt=fmt, **filters)
    return count, out.getvalue()


async def newest(sessions) -> AuditEntry:
    async with sessions() as session:
        return await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))


async def test_entries_come_newest_first_with_their_fields(session_factory):
    """A page lists the newest entries first, detail decoded."""
    await add_entries(session_factory, 3)
    views = await read(session_factory, limit=2)
    assert [v.seq for v in views] == [3, 2]
    assert views[0].at == T0 + timedelta(hours=2)
    assert (views[0].actor, views[0].action, views[0].target) == ("anna", "hold.place", "call-2")
    assert (views[0].detail, views[0].client) == ({"n": 2}, "192.0.2.7")


async def test_pages_follow_each_other_by_seq(session_factory):
    """``before_seq`` gives the next older page, unaffected by entries added meanwhile."""
    await add_entries(session_factory, 7)
    first = await read(session_factory, limit=3)
    second = await read(session_factory, limit=3, before_seq=first[-1].seq)
    third = await read(session_factory, limit=3, before_seq=second[-1].seq)
    assert [[v.seq for v in page] for page in (first, second, third)] == [
        [7, 6, 5],
        [4, 3, 2],
        [1],
    ]


async def test_filters_narrow_the_entries(session_factory):
    """By time (since inclusive, until exclusive), actor, action and its sub-actions, target."""
    await add_entries(session_factory, 6, actions=("login", "hold.place", "hold.release", "holder"))

    async def seqs(**filters) -> list[int]:
        return [v.seq for v in await read(session_factory, **filters)]

    assert await seqs(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4)) == [4, 3]
    assert await seqs(who="piotr") == [6, 4, 2]
    assert await seqs(action="hold") == [6, 3, 2]
    assert await seqs(action="hold.place") == [6, 2]
    assert await seqs(action="holder") == [4]
    assert await seqs(target="call-4") == [5]
    assert await seqs(who="piotr", action="hold") == [6, 2]
    assert await seqs(who="nobody") == []


async def test_reading_is_recorded_in_the_trail(session_factory):
    """Each reading adds an ``audit.read`` entry naming the reader, filters and count."""
    await add_entries(session_factory, 3)
    views = await read(session_factory, who="anna", since=T0, limit=10)
    entry = await newest(session_factory)
    assert (entry.seq, entry.actor, entry.action, entry.at) == (4, "dpo-anna", "audit.read", NOW)
    assert json.loads(entry.detail) == {
        "actor": "anna",
        "since": T0.isoformat(timespec="microseconds"),
        "limit": 10,
        "entries": len(views),
    }
    later = await read(session_factory, limit=1)
    assert later[0].action == "audit.read"


async def test_only_the_dpo_may_read(session_factory):
    """Other roles are refused, and their attempt adds nothing."""
    await add_entries(session_factory, 2)
    with pytest.raises(ForbiddenError, match=r"sup-jan \(admin, director, supervisor\)"):
        await read(session_factory, actor=SUPERVISOR)
    with pytest.raises(ForbiddenError, match="may not export the audit trail"):
        await export(session_factory, "jsonl", actor=SUPERVISOR)
    assert (await head(session_factory))[0] == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"limit": 0}, "Limit 0 is out of range"),
        ({"limit": 1001}, "Limit 1001 is out of range"),
        ({"since": datetime(2026, 11, 24)}, "has no timezone"),  # noqa: DTZ001
        ({"since": T0, "until": T0}, "is not after since"),
    ],
)
async def test_bad_filters_are_refused(session_factory, filters, message):
    """A limit out of range, a naive time or an empty span is an InputError."""
    with pytest.raises(InputError, match=message):
        await read(session_factory, **filters)


def links_of(records: list[dict]) -> list[Link]:
    return [
        Link(
            seq=int(record["seq"]),
            at=datetime.fromisoformat(record["at"]),
            actor=record["actor"],
            action=record["action"],
            target=record["target"] or None,
            detail=record["detail"],
            client=record["client"] or None,
            prev_hash=record["prev_hash"],
        )
        for record in records
    ]


def check_chain(records: list[dict], first_prev: str) -> None:
    """The records recompute to their hashes and link to each other."""
    prev = first_prev
    for link, record in zip(links_of(records), records, strict=True):
        assert link.prev_hash == prev
        assert link_hash(link) == record["hash"]
        prev = record["hash"]


async def test_a_jsonl_export_can_be_checked_on_its_own(session_factory):
    """One JSON object per entry, oldest first, with the hashes to recompute the chain."""
    await add_entries(session_factory, 4)
    count, text = await export(session_factory, "jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert count == len(records) == 4
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert records[0]["detail"] == {"n": 0}
    check_chain([{**r, "detail": canonical_json(r["detail"])} for r in records], GENESIS)


async def test_a_csv_export_can_be_checked_on_its_own(session_factory):
    """A header row, then one row per entry with the stored detail text and the hashes."""
    await add_entries(session_factory, 3)
    count, text = await export(session_factory, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == len(rows) == 3
    assert text.splitlines()[0] == "seq,at,actor,action,target,detail,client,prev_hash,hash"
    assert rows[1]["detail"] == '{"n":1}'
    check_chain(rows, GENESIS)


async def test_an_export_between_times_starts_mid_chain(session_factory):
    """A span exports the entries in it; the first still names its predecessor's hash."""
    entries = await add_entries(session_factory, 5)
    count, text = await export(
        session_factory, "jsonl", since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)
    )
    records = [json.loads(line) for line in text.splitlines()]
    assert count == 2
    assert [r["seq"] for r in records] == [2, 3]
    check_chain([{**r, "detail": canonical_json(r["detail"])} for r in records], entries[0].hash)


async def test_an_export_is_recorded_after_its_entries(session_factory):
    """``audit.export`` follows the exported entries, with the format, span and count."""
    await add_entries(session_factory, 2)
    _, text = await export(session_factory, "csv", since=T0)
    entry = await newest(session_factory)
    assert (entry.seq, entry.action, entry.actor) == (3, "audit.export", "dpo-anna")
    assert json.loads(entry.detail) == {
        "since": T0.isoformat(timespec="microseconds"),
        "format": "csv",
        "entries": 2,
    }
    assert "audit.export" not in text
    async with session_factory() as session:
        assert (await verify_chain(session)).intact


async def test_an_unknown_format_is_refused(session_factory):
    """Only jsonl and csv exist."""
    with pytest.raises(InputError, match="Export format 'xml' is unknown"):
        await export(session_factory, "xml")


async def test_a_tampered_detail_is_still_shown(session_factory):
    """Detail that is no longer a JSON object is shown as text rather than failing the page."""
    await add_entries(session_factory, 2)
    await tamper(session_factory, "UPDATE audit_log SET detail = 'oops' WHERE seq = 1")
    views = await read(session_factory)
    assert views[-1].detail == {"unreadable": "oops"}
    _, text = await export(session_factory, "jsonl")
    assert json.loads(text.splitlines()[0])["detail"] == {"unreadable": "oops"}
