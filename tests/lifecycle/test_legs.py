"""A call's two legs go wherever its mix goes: the retention purge, erasure of the caller's
number and the orphan sweep delete them with the mix and leave no fingerprint of them."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path

from callrec_ari.access import Actor, Role
from callrec_ari.lifecycle.orphans import sweep_orphans
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord
from callrec_ari.rights.erasure import erase_number
from tests.db.records import T0
from tests.lifecycle.conftest import NOW, POLICIES, file_of, recorded, row, store
from tests.support.audio import write_wav

KEEP_DAYS = 183
DPO = Actor.of("dpo-anna", Role.DPO)


def with_legs(recordings: Path, record: CallRecord) -> CallRecord:
    """The call with both legs written beside its mix and their facts on the record."""
    caller, agent = leg_files(file_of(recordings, record))
    write_wav(caller, 0.01, b"\x20\x00")
    write_wav(agent, 0.01, b"\x30\x00")
    caller_facts, agent_facts = inspect_wav(caller), inspect_wav(agent)
    return dataclasses.replace(
        record,
        caller_leg_size_bytes=caller_facts.size_bytes,
        caller_leg_sha256=caller_facts.sha256,
        agent_leg_size_bytes=agent_facts.size_bytes,
        agent_leg_sha256=agent_facts.sha256,
    )


def left(recordings: Path) -> list[str]:
    """Every file still under the recordings folder, relative to it."""
    return sorted(str(p.relative_to(recordings)) for p in recordings.rglob("*") if p.is_file())


async def test_the_retention_purge_deletes_both_legs_and_their_fingerprints(
    session_factory, recordings
):
    """A due call loses its mix and both legs; the row keeps no leg size or hash; a call not
    yet due keeps its three files."""
    due = with_legs(recordings, recorded("1.1", recordings))
    young = with_legs(recordings, recorded("1.2", recordings, policy="months-6"))
    await store(session_factory, due, young)
    stored = await row(session_factory, "1.1")
    assert stored.caller_leg_sha256 == due.caller_leg_sha256  # kept until the purge

    report = await run_purge(
        session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW
    )

    assert report.reduced == 1
    assert left(recordings) == [
        "2026/11/24/1.2.agent.wav",
        "2026/11/24/1.2.caller.wav",
        "2026/11/24/1.2.wav",
        "2026/11/24/1.2.wav.done",
    ]
    purged = await row(session_factory, "1.1")
    assert (
        purged.caller_leg_size_bytes,
        purged.caller_leg_sha256,
        purged.agent_leg_size_bytes,
        purged.agent_leg_sha256,
    ) == (None, None, None, None)


async def test_erasure_of_the_callers_number_deletes_both_legs(session_factory, recordings):
    """Erasure takes the legs with the mix: nothing of either voice is left."""
    call = with_legs(recordings, recorded("2.1", recordings, policy="months-6"))
    await store(session_factory, call)
    assert call.caller_e164 is not None

    async with session_factory() as session, session.begin():
        result = await erase_number(
            session, recordings, call.caller_e164, actor=DPO, now=NOW, region="PL"
        )

    assert result.erased == ("2.1",)
    assert left(recordings) == []
    erased = await row(session_factory, "2.1")
    assert (erased.caller_leg_sha256, erased.agent_leg_sha256) == (None, None)


async def sweep(session_factory, recordings: Path, *, now, remove: bool = True):
    """Sweep and remove at ``now``; the orphans found."""
    found = []
    await sweep_orphans(
        session_factory,
        recordings,
        now=now,
        keep_days=KEEP_DAYS,
        remove=remove,
        on_orphan=found.append,
    )
    return found


def aged(*paths: Path) -> None:
    """Make the files look last changed at T0."""
    for path in paths:
        os.utime(path, (T0.timestamp(), T0.timestamp()))


async def test_the_legs_of_a_known_call_are_not_orphans(session_factory, recordings):
    """A row that knows the mix knows its legs: the sweep reports nothing and keeps them."""
    call = with_legs(recordings, recorded("3.1", recordings))
    await store(session_factory, call)

    found = await sweep(session_factory, recordings, now=T0 + timedelta(days=KEEP_DAYS + 1))

    assert found == []
    assert len(left(recordings)) == 4


async def test_legs_no_row_knows_go_with_their_mix_when_old(session_factory, recordings):
    """An unknown mix and its legs are one orphan, kept while young, removed together when old;
    legs whose mix is already gone are an orphan too."""
    with_legs(recordings, recorded("3.2", recordings))
    lone = with_legs(recordings, recorded("3.3", recordings))
    file_of(recordings, lone).unlink()
    aged(*(p for p in recordings.rglob("*") if p.is_file()))

    young = await sweep(session_factory, recordings, now=T0)
    assert [(o.files, o.removed) for o in young] == [
        (("3.2.wav", "3.2.caller.wav", "3.2.agent.wav", "3.2.wav.done"), False),
        (("3.3.caller.wav", "3.3.agent.wav", "3.3.wav.done"), False),
    ]
    old = await sweep(session_factory, recordings, now=T0 + timedelta(days=KEEP_DAYS + 1))
    assert [o.removed for o in old] == [True, True]
    assert left(recordings) == []


async def test_a_withdrawn_orphans_legs_go_at_once(session_factory, recordings):
    """Beside a withdrawal marker, a young orphan's mix and both legs are removed now."""
    call = with_legs(recordings, recorded("3.4", recordings))
    wav = file_of(recordings, call)
    marker = wav.with_name(wav.name + ".withdrawn")
    marker.write_text("callrec-withdrawn/1|3.4|1795514353.847", encoding="ascii")

    [orphan] = await sweep(session_factory, recordings, now=T0)

    assert orphan.removed
    assert left(recordings) == ["2026/11/24/3.4.wav.withdrawn"]
