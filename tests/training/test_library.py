"""The training library: a copy made from a call row leads nowhere back to it; trainers and
supervisors play copies, each play audited; supervisors delete them."""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from callrec_ari.access import Actor, Role
from callrec_ari.errors import ForbiddenError, NotFoundError
from callrec_ari.training import library
from callrec_ari.training.anonymise import RATE
from callrec_ari.training.expiry import expires_on
from tests.rights.conftest import call_row
from tests.support.audio import read_samples, rms_dbfs, strongest_tone, tone_power
from tests.training.conftest import (
    AGENT_HZ,
    CALLER_HZ,
    CLIENT,
    NOW,
    SUPERVISOR,
    TRAINER,
    audit,
    copy_rows,
    make,
    store,
    toned,
)

TOPIC = "calming an angry caller about a late repair"


@pytest.fixture
def recordings(settings) -> Path:
    """The recordings folder of ``settings``."""
    return settings.recording.service_dir


def leads_back(call) -> set[str]:
    """Every value of the original row that would point back to it, in the forms it could
    take in a field or a file: ids, numbers, agent, times (ISO, date and epoch), the
    recording's path, hashes and length."""
    values: set[str] = set()
    for key in ("uniqueid", "linkedid", "caller_number", "caller_e164", "dialled_number"):
        values.add(getattr(call, key))
    values |= {call.agent, call.recording_path, call.recording_path.rsplit("/", 1)[-1]}
    values |= {call.sha256, call.caller_leg_sha256, call.agent_leg_sha256}
    for moment in (call.started_at, call.answered_at, call.ended_at):
        values |= {
            moment.isoformat(),
            moment.isoformat(sep=" ", timespec="seconds"),
            moment.strftime("%Y-%m-%d"),
            moment.strftime("%Y%m%d"),
            str(int(moment.timestamp())),
        }
    values |= {f"{call.duration_seconds}", f"{call.duration_seconds:.1f}"}
    return {value for value in values if value}


def wav_header_chunks(data: bytes) -> tuple[list[bytes], bytes]:
    """The chunk names of a WAV, and every byte of it but the audio samples."""
    names, kept, at = [], data[:12], 12
    while at < len(data):
        name, size = struct.unpack("<4sI", data[at : at + 8])
        names.append(name)
        kept += data[at : at + 8] + (b"" if name == b"data" else data[at + 8 : at + 8 + size])
        at += 8 + size + size % 2
    return names, kept


async def test_no_field_of_the_copy_leads_back_to_the_call(session_factory, settings, recordings):
    """No column of the training row, nor the file's name, nor any byte of the WAV outside
    its samples equals or holds a value of the original row; the file is dated to the month;
    the ``training.made`` entry names the call and holds no trace of the copy."""
    await store(session_factory, toned(recordings, "1796000123.42", seconds=4.0))
    call = await call_row(session_factory, "1796000123.42")
    made = await make(session_factory, settings, call.uniqueid, topic=TOPIC, spans="1-2")

    [row] = await copy_rows(session_factory)
    path = settings.training.dir / row.file
    names, header = wav_header_chunks(path.read_bytes())
    fields = {key: value for key, value in vars(row).items() if not key.startswith("_")}
    texts = [str(value) for value in fields.values() if value is not None]
    for value in leads_back(call):
        assert all(value not in text for text in texts), (value, fields)
        assert value not in row.file
        assert value.encode() not in header
    assert names == [b"fmt ", b"data"]
    assert re.fullmatch(r"[0-9a-f]{16}", row.id)
    assert re.fullmatch(r"[0-9a-f]{32}\.wav", row.file)
    assert (row.made_month, row.expires_on) == ("2026-12", expires_on(NOW, 24))
    assert (row.language, row.caller_voice, row.topic) == ("fi", "disguised", TOPIC)
    assert made.id == row.id
    assert path.stat().st_mtime == datetime(2026, 12, 1, tzinfo=UTC).timestamp()

    [entry] = [entry for entry in await audit(session_factory) if entry.action == "training.made"]
    assert (entry.actor, entry.target, entry.client) == (SUPERVISOR.name, call.uniqueid, CLIENT)
    assert entry.detail == '{"caller_voice":"disguised","spans":1}'
    for trace in (row.id, row.file, row.sha256, row.file.removesuffix(".wav")):
        assert all(trace not in str(value) for value in vars(entry).values())


async def test_a_copy_made_with_the_caller_removed_holds_the_agent_alone(
    session_factory, settings, recordings
):
    """``remove``: the agent's tone loud, no caller tone shifted or not; the span silent."""
    await store(session_factory, toned(recordings, "t1", seconds=4.0))
    made = await make(session_factory, settings, "t1", spans="2-3", caller="remove")
    [row] = await copy_rows(session_factory)
    samples = read_samples(settings.training.dir / row.file)
    lead = next(index for index, sample in enumerate(samples) if sample)
    spoken, silent = samples[lead : lead + RATE], samples[lead + 2 * RATE : lead + 3 * RATE]
    assert made.caller_voice == "removed"
    assert tone_power(spoken, AGENT_HZ) > 1e5
    # Nothing in the caller's range but the agent tone's own leakage (about 1e-4 of it).
    assert strongest_tone(spoken, 280, 700)[1] < tone_power(spoken[:800], AGENT_HZ) / 1000
    assert rms_dbfs(silent) < -60
    assert len(samples) >= 4 * RATE + RATE  # at least half a second before and after


async def test_a_disguised_copy_drops_the_caller_s_own_pitch(session_factory, settings, recordings):
    """The randomly drawn factor is kept nowhere, yet the caller's 440 Hz is gone from the
    copy and one tone within the disguise's range stands in for it."""
    await store(session_factory, toned(recordings, "t1", seconds=4.0))
    await make(session_factory, settings, "t1")
    [row] = await copy_rows(session_factory)
    samples = read_samples(settings.training.dir / row.file)
    lead = next(index for index, sample in enumerate(samples) if sample)
    spoken = samples[lead + RATE // 2 : lead + 3 * RATE]
    low, high = strongest_tone(spoken, 300, 380), strongest_tone(spoken, 520, 660)
    hz, power = max(low, high, key=lambda found: found[1])
    assert 440 * 0.7 - 5 <= hz <= 440 * 0.8 + 5 or 440 * 1.25 - 5 <= hz <= 440 * 1.45 + 5
    assert power > 1e6
    assert tone_power(spoken, CALLER_HZ) < 100
    assert tone_power(spoken, AGENT_HZ) > 1e5


async def test_a_trainer_plays_a_copy_and_each_play_is_audited(
    session_factory, settings, recordings
):
    """The trainer and the supervisor get the file; each play is ``training.played`` on the
    copy, naming who played it; an agent is refused."""
    await store(session_factory, toned(recordings, "t1"))
    made = await make(session_factory, settings, "t1")
    for who in (TRAINER, SUPERVISOR):
        async with session_factory() as session, session.begin():
            playable = await library.open_copy(
                session, actor=who, copy_id=made.id, library=settings.training.dir, now=NOW
            )
            await library.record_play(
                session, actor=who, copy_id=playable.id, now=NOW, client=CLIENT
            )
        assert playable.path.parent == settings.training.dir.resolve()
    played = [entry for entry in await audit(session_factory) if entry.action == "training.played"]
    assert [(entry.actor, entry.target) for entry in played] == [
        (TRAINER.name, f"training:{made.id}"),
        (SUPERVISOR.name, f"training:{made.id}"),
    ]
    agent = Actor.of("agent-piotr", Role.AGENT, extension="agent100")
    async with session_factory() as session:
        with pytest.raises(ForbiddenError, match="may not play training copies"):
            await library.open_copy(
                session, actor=agent, copy_id=made.id, library=settings.training.dir, now=NOW
            )


async def test_gone_copies_are_not_found(session_factory, settings, recordings):
    """An id never made, a malformed one, an expired copy and one whose file went: 404."""
    await store(session_factory, toned(recordings, "t1"), toned(recordings, "t2"))
    first = await make(session_factory, settings, "t1")
    second = await make(session_factory, settings, "t2")
    [gone] = [row for row in await copy_rows(session_factory) if row.id == second.id]
    (settings.training.dir / gone.file).unlink()
    later = datetime.combine(first.expires_on, datetime.min.time(), tzinfo=UTC)
    cases = [
        ("0123456789abcdef", NOW),
        ("../../etc/passwd", NOW),
        (first.id, later),
        (second.id, NOW),
    ]
    async with session_factory() as session:
        for copy_id, now in cases:
            with pytest.raises(NotFoundError, match="Training copy"):
                await library.open_copy(
                    session, actor=TRAINER, copy_id=copy_id, library=settings.training.dir, now=now
                )
        assert [copy.id for copy in await library.list_copies(session, now=later)] == []


async def test_the_list_shows_live_copies_newest_month_first(session_factory, settings, recordings):
    """Copies of two months, one deleted: the live ones, December before November."""
    await store(session_factory, *(toned(recordings, f"t{n}") for n in range(3)))
    november = await make(session_factory, settings, "t0", now=NOW - timedelta(days=3))
    december = await make(session_factory, settings, "t1", topic="greeting the caller")
    deleted = await make(session_factory, settings, "t2")
    async with session_factory() as session, session.begin():
        await library.delete_copy(
            session,
            actor=SUPERVISOR,
            copy_id=deleted.id,
            library=settings.training.dir,
            now=NOW,
            client=CLIENT,
        )
    async with session_factory() as session:
        listed = await library.list_copies(session, now=NOW)
    assert [(copy.id, copy.made_month) for copy in listed] == [
        (december.id, "2026-12"),
        (november.id, "2026-11"),
    ]
    assert listed[0].to_json() == {
        "id": december.id,
        "topic": "greeting the caller",
        "language": "fi",
        "caller_voice": "disguised",
        "made_month": "2026-12",
        "expires_on": "2029-01-01",
    }


async def test_a_supervisor_deletes_a_copy(session_factory, settings, recordings):
    """The file goes, the row is marked, the trail has ``training.deleted``; a trainer may
    not delete, and a copy is deleted once."""
    await store(session_factory, toned(recordings, "t1"))
    made = await make(session_factory, settings, "t1")
    [row] = await copy_rows(session_factory)
    options = {"copy_id": made.id, "library": settings.training.dir, "now": NOW, "client": CLIENT}
    async with session_factory() as session:
        with pytest.raises(ForbiddenError, match="may not delete training copies"):
            await library.delete_copy(session, actor=TRAINER, **options)
    async with session_factory() as session, session.begin():
        await library.delete_copy(session, actor=SUPERVISOR, **options)
    assert not (settings.training.dir / row.file).exists()
    [after] = await copy_rows(session_factory)
    assert after.deleted_at == NOW
    entries = [(e.actor, e.action, e.target) for e in await audit(session_factory)]
    assert entries[-1] == (SUPERVISOR.name, "training.deleted", f"training:{made.id}")
    async with session_factory() as session:
        with pytest.raises(NotFoundError):
            await library.delete_copy(session, actor=SUPERVISOR, **options)


_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse_copies BEFORE INSERT ON training_copies "
        "BEGIN SELECT RAISE(ABORT, 'the library is closed'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_copies() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'the library is closed'; END $$",
        "CREATE TRIGGER refuse_copies BEFORE INSERT ON training_copies "
        "FOR EACH ROW EXECUTE FUNCTION refuse_copies()",
    ],
}


async def test_a_copy_the_database_refuses_leaves_no_file(session_factory, settings, recordings):
    """ffmpeg made the file but the row could not be stored: the file is deleted too."""
    await store(session_factory, toned(recordings, "t1"))
    async with session_factory() as session, session.begin():
        for statement in _REFUSE[session.get_bind().dialect.name]:
            await session.execute(text(statement))
    with pytest.raises(DBAPIError, match="the library is closed"):
        await make(session_factory, settings, "t1")
    assert list(settings.training.dir.iterdir()) == []
