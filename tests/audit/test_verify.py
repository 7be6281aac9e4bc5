"""``verify_chain``: each kind of tampering found and named, after the triggers are dropped."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from callrec_ari.audit.chain import GENESIS, Link, link_hash
from callrec_ari.audit.verify import MAX_PROBLEMS, Kind, verify_chain
from callrec_ari.db.models import AuditEntry
from tests.audit.conftest import add_entries, head, tamper


async def verify(sessions):
    async with sessions() as session:
        return await verify_chain(session)


def found(verdict) -> list[tuple[int | None, Kind, str]]:
    return [(p.seq, p.kind, p.text) for p in verdict.problems]


async def test_an_empty_trail_is_intact(session_factory):
    """No entry yet: nothing to check, the head still at genesis."""
    verdict = await verify(session_factory)
    assert verdict.intact
    assert (verdict.entries, verdict.head_seq, verdict.head_hash) == (0, 0, GENESIS)


async def test_an_untouched_trail_is_intact(session_factory):
    """Every entry checked, the head hash reported for writing down."""
    entries = await add_entries(session_factory, 5)
    verdict = await verify(session_factory)
    assert verdict.intact
    assert (verdict.entries, verdict.head_seq, verdict.head_hash) == (5, 5, entries[-1].hash)


async def test_an_edited_detail_is_found(session_factory):
    """Changed contents no longer match the stored hash; the entries after stay linked."""
    await add_entries(session_factory, 5)
    await tamper(session_factory, """UPDATE audit_log SET detail = '{"n": 99}' WHERE seq = 3""")
    verdict = await verify(session_factory)
    assert found(verdict) == [
        (3, Kind.EDITED, "Entry 3 was edited: its hash does not match its contents.")
    ]
    assert verdict.entries == 5


async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(session_factory):
    """Rehashing the edited entry moves the break to the entry after it."""
    await add_entries(session_factory, 5)
    async with session_factory() as session:
        entry = await session.get_one(AuditEntry, 3)
    forged = link_hash(
        Link(
            seq=3,
            at=entry.at,
            actor="someone-else",
            action=entry.action,
            target=entry.target,
            detail=entry.detail,
            client=entry.client,
            prev_hash=entry.prev_hash,
        )
    )
    await tamper(
        session_factory,
        "UPDATE audit_log SET actor = 'someone-else', hash = :forged WHERE seq = 3",
        forged=forged,
    )
    assert found(await verify(session_factory)) == [
        (
            4,
            Kind.BROKEN_LINK,
            "Entry 4 is not linked to the entry before it: an entry was replaced, "
            "reordered or inserted there.",
        )
    ]


async def test_swapped_contents_are_found(session_factory):
    """Two entries' contents swapped: both hashes cover their seq, so both are edited."""
    await add_entries(session_factory, 4)
    await tamper(
        session_factory,
        "UPDATE audit_log SET seq = 100 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 100",
    )
    kinds = [(p.seq, p.kind) for p in (await verify(session_factory)).problems]
    assert kinds == [
        (2, Kind.BROKEN_LINK),
        (2, Kind.EDITED),
        (3, Kind.BROKEN_LINK),
        (3, Kind.EDITED),
        (4, Kind.BROKEN_LINK),
    ]


async def test_a_deleted_middle_entry_is_found(session_factory):
    """A gap in the numbers names the entry that is gone, and nothing more."""
    await add_entries(session_factory, 5)
    await tamper(session_factory, "DELETE FROM audit_log WHERE seq = 3")
    verdict = await verify(session_factory)
    assert found(verdict) == [
        (3, Kind.MISSING, "Entry 3 is missing: the chain jumps from entry 2 to 4.")
    ]
    assert verdict.entries == 4


async def test_deleted_first_entries_are_found(session_factory):
    """A chain that does not start at 1 names the entries gone from the start."""
    await add_entries(session_factory, 5)
    await tamper(session_factory, "DELETE FROM audit_log WHERE seq <= 2")
    assert found(await verify(session_factory)) == [
        (1, Kind.MISSING, "Entries 1 to 2 are missing: the chain starts at entry 3.")
    ]


async def test_a_deleted_last_entry_is_found_by_the_head(session_factory):
    """The head still counts the removed entry."""
    await add_entries(session_factory, 5)
    await tamper(session_factory, "DELETE FROM audit_log WHERE seq = 5")
    assert found(await verify(session_factory)) == [
        (
            5,
            Kind.TAIL_REMOVED,
            "Entry 5 was removed from the end: the head counts 5, the newest entry left is 4.",
        )
    ]


async def test_a_deleted_tail_with_the_head_count_moved_back_is_found(session_factory):
    """The head's count set back but not its hash: the newest entry is not the head's."""
    await add_entries(session_factory, 5)
    await tamper(
        session_factory,
        "DELETE FROM audit_log WHERE seq >= 4",
        "UPDATE audit_head SET seq = 3",
    )
    assert found(await verify(session_factory)) == [
        (
            3,
            Kind.BROKEN_LINK,
            "Entry 3 is not the one the head recorded: the newest entry was replaced "
            "or the head was changed.",
        )
    ]


async def test_a_fully_rewound_head_is_the_limit_of_the_chain(session_factory):
    """Tail and head rewound together leave a consistent chain: only a head hash written
    down outside the system shows it (see the verify module's docstring)."""
    entries = await add_entries(session_factory, 5)
    written_down = (await verify(session_factory)).head_hash
    await tamper(
        session_factory,
        "DELETE FROM audit_log WHERE seq >= 4",
        "UPDATE audit_head SET seq = 3, hash = :hash",
        hash=entries[2].hash,
    )
    verdict = await verify(session_factory)
    assert verdict.intact
    assert verdict.head_hash != written_down


async def test_an_emptied_trail_is_found(session_factory):
    """Every entry deleted: the head at 5 tells it from a new trail."""
    await add_entries(session_factory, 5)
    await tamper(session_factory, "DELETE FROM audit_log")
    verdict = await verify(session_factory)
    assert found(verdict) == [
        (
            1,
            Kind.TAIL_REMOVED,
            "Entries 1 to 5 were removed from the end: the head counts 5, no entry is left.",
        )
    ]
    assert verdict.entries == 0


async def test_a_missing_head_is_found_and_the_entries_still_checked(session_factory):
    """Without the head a removed tail cannot show, which the problem says."""
    await add_entries(session_factory, 3)
    await tamper(session_factory, "DELETE FROM audit_head")
    verdict = await verify(session_factory)
    assert [(p.seq, p.kind) for p in verdict.problems] == [(None, Kind.HEAD_MISSING)]
    assert "head row is missing" in verdict.problems[0].text
    assert (verdict.entries, verdict.head_seq, verdict.head_hash) == (3, None, None)


async def test_entries_beyond_a_moved_back_head_are_found(session_factory):
    """The head set back to an earlier entry, the later ones left: they lie beyond it."""
    entries = await add_entries(session_factory, 5)
    await tamper(
        session_factory, "UPDATE audit_head SET seq = 3, hash = :hash", hash=entries[2].hash
    )
    verdict = await verify(session_factory)
    assert found(verdict) == [
        (
            4,
            Kind.BEYOND_HEAD,
            "Entries up to 5 lie beyond the head (entry 3): the head was moved back, "
            "or entries were added around the trail.",
        )
    ]
    assert verdict.entries == 3


async def test_problems_are_listed_up_to_a_limit_and_counted_beyond(session_factory):
    """A wholly rewritten trail lists the first hundred problems and counts the rest."""
    await add_entries(session_factory, MAX_PROBLEMS + 20)
    await tamper(session_factory, "UPDATE audit_log SET client = NULL")
    verdict = await verify(session_factory)
    assert len(verdict.problems) == MAX_PROBLEMS
    assert verdict.more_problems == 20
    assert verdict.problems[-1].seq == MAX_PROBLEMS
    assert not verdict.intact


async def test_verify_reads_only_and_appends_nothing(session_factory):
    """Checking the trail is not itself an entry in it."""
    await add_entries(session_factory, 2)
    await verify(session_factory)
    assert (await head(session_factory))[0] == 2
    async with session_factory() as session:
        assert len((await session.scalars(select(AuditEntry))).all()) == 2


async def test_appends_while_verifying_are_no_problem(session_factory, monkeypatch):
    """Entries committed during a check lie past the head it read first: left for the next."""
    monkeypatch.setattr("callrec_ari.audit.verify.BATCH", 3)  # many fetches to interleave
    await add_entries(session_factory, 30)

    async def keep_appending() -> None:
        for _ in range(20):
            await add_entries(session_factory, 1)
            await asyncio.sleep(0)

    _, *verdicts = await asyncio.gather(
        keep_appending(), *(verify(session_factory) for _ in range(4))
    )
    assert all(verdict.intact for verdict in verdicts), [v.problems for v in verdicts]
    assert all(30 <= verdict.entries <= 50 for verdict in verdicts)
    assert (await verify(session_factory)).entries == 50
