"""Prompt versions: every new audio numbered and audited, old audio kept while a call heard it."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.config import PromptSettings, Settings
from callrec_ari.db.models import AuditEntry, Call, PromptVersion
from callrec_ari.db.repository import upsert_call
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.prompts.catalog import installed_path
from callrec_ari.prompts.install import install_prompts
from callrec_ari.prompts.replace import replace_prompt
from callrec_ari.prompts.version_store import (
    PromptWatcher,
    archive_dir,
    purge_prompt_audio,
    sync_versions,
)
from callrec_ari.prompts.versions import PromptVersions
from tests.db.records import ringing
from tests.flow.conftest import example_settings
from tests.prompts.conftest import REPO_PROMPTS, make_tone
from tests.support.database import on_database
from tests.test_main import write_config

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The example config with the repository's prompts installed under tmp_path/sounds."""
    source = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, source)
    prompts = PromptSettings(source_dir=source, sounds_dir=tmp_path / "sounds")
    settings = dataclasses.replace(example_settings(tmp_path), prompts=prompts)
    install_prompts(source, prompts.sounds_dir)
    return settings


async def versions_of(session_factory, name="announcement", language="pl"):
    """The stored versions of one prompt, oldest first."""
    async with session_factory() as session:
        query = (
            select(PromptVersion)
            .where(PromptVersion.name == name, PromptVersion.language == language)
            .order_by(PromptVersion.version)
        )
        return list(await session.scalars(query))


async def audited(session_factory, action):
    """The trail's entries of one action, in order."""
    async with session_factory() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        return list(await session.scalars(query))


async def install(session_factory, settings):
    """What ``callrec prompts install`` records after copying the files."""
    async with session_factory() as session, session.begin():
        return await sync_versions(session, settings, now=NOW, actor="cli:ops", source="install")


async def replace(session_factory, settings, take: bytes, *, at: datetime):
    """The admin replaces the Polish announcement with ``take``."""
    async with session_factory() as session, session.begin():
        await replace_prompt(
            session,
            settings=settings,
            actor=ADMIN,
            language="pl",
            name="announcement",
            upload=io.BytesIO(take),
            now=at,
        )


def detail(entry: AuditEntry) -> dict:
    """An audit entry's detail, decoded."""
    return json.loads(entry.detail)


def sha_of(path: Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_install_then_two_replacements_leave_three_versions_with_their_audio(
    session_factory, settings, tmp_path
):
    """Replacing twice: v1, v2, v3, each audited with the old and new hash, each audio kept."""
    current = await install(session_factory, settings)
    installed = installed_path(settings, "pl", "announcement")
    assert current[("announcement", "pl")].version == 1
    assert current[("announcement", "pl")].sha256 == sha_of(installed)
    for n, seconds in enumerate((2.0, 3.0), start=1):
        take = make_tone(tmp_path / f"take{n}.mp3", seconds=seconds).read_bytes()
        await replace(session_factory, settings, take, at=NOW + timedelta(hours=n))
    rows = await versions_of(session_factory)
    assert [row.version for row in rows] == [1, 2, 3]
    assert [row.source for row in rows] == ["install", "replace", "replace"]
    assert [row.retired_at is None for row in rows] == [False, False, True]
    assert rows[2].sha256 == sha_of(installed)
    for row in rows:
        kept = archive_dir(settings) / (row.audio_path or "")
        assert sha_of(kept) == row.sha256
    entries = [
        entry
        for entry in await audited(session_factory, "prompt.version")
        if entry.target == "prompt:pl/announcement"
    ]
    assert [(detail(e)["previous_sha256"], detail(e)["sha256"]) for e in entries] == [
        (None, rows[0].sha256),
        (rows[0].sha256, rows[1].sha256),
        (rows[1].sha256, rows[2].sha256),
    ]
    assert entries[1].actor == "ada"
    # The sounds folder Asterisk plays from holds only the current audio.
    assert not any(path.name.startswith("v") for path in installed.parent.iterdir())


async def test_old_audio_is_kept_while_a_kept_call_heard_it_then_purged(
    session_factory, settings, tmp_path
):
    """The purge spares v2 while a call's evidence names it, and deletes it once that call is."""
    await install(session_factory, settings)
    for n in (1, 2):
        take = make_tone(tmp_path / f"take{n}.mp3", seconds=1.0 + n).read_bytes()
        await replace(session_factory, settings, take, at=NOW + timedelta(hours=n))
    v1, v2, v3 = await versions_of(session_factory)
    heard = Fact(
        kind=Kind.HEARD,
        at=NOW,
        language="pl",
        prompts=(PromptHeard(name="announcement", language="pl", version=2, sha256=v2.sha256),),
    )
    async with session_factory() as session, session.begin():
        await upsert_call(session, dataclasses.replace(ringing("1795.1"), evidence=(heard,)))
        assert await purge_prompt_audio(session, settings, now=NOW + timedelta(days=1)) == 1
    archive = archive_dir(settings)
    assert not (archive / (v1.audio_path or "")).exists()
    assert (archive / (v2.audio_path or "")).exists()
    assert (archive / (v3.audio_path or "")).exists()  # current, whoever heard it
    async with session_factory() as session, session.begin():
        await session.execute(update(Call).values(purged_at=NOW + timedelta(days=2)))
        assert await purge_prompt_audio(session, settings, now=NOW + timedelta(days=2)) == 1
    assert not (archive / (v2.audio_path or "")).exists()
    assert (archive / (v3.audio_path or "")).exists()
    purged = await audited(session_factory, "prompt.version_purged")
    assert [detail(entry)["version"] for entry in purged] == [1, 2]
    # The hashes stay: a statement naming v1 can still be checked against the trail.
    assert [row.sha256 for row in await versions_of(session_factory)] == [
        v1.sha256,
        v2.sha256,
        v3.sha256,
    ]


async def test_a_file_changed_outside_callrec_becomes_a_new_version(session_factory, settings):
    """Someone copies a WAV over the installed one: the watcher numbers and audits it."""
    versions = PromptVersions()
    watcher = PromptWatcher(versions, session_factory)
    await watcher.round(settings, now=NOW)
    assert versions.lookup("announcement", "pl").version == 1
    target = installed_path(settings, "pl", "announcement")
    shutil.copyfile(installed_path(settings, "en", "announcement"), target)
    await watcher.round(settings, now=NOW + timedelta(minutes=1))
    current = versions.lookup("announcement", "pl")
    assert (current.version, current.sha256) == (2, sha_of(target))
    assert versions.lookup("announcement", "sv").version == 1  # the others unchanged
    [row_v1, row_v2] = await versions_of(session_factory)
    assert (row_v1.source, row_v2.source) == ("first_seen", "outside")
    outside = [
        entry
        for entry in await audited(session_factory, "prompt.version")
        if detail(entry)["source"] == "outside"
    ]
    assert [entry.target for entry in outside] == ["prompt:pl/announcement"]
    assert detail(outside[0])["previous_sha256"] == row_v1.sha256


async def test_an_unchanged_file_is_not_read_again(session_factory, settings, monkeypatch):
    """Rounds only stat the files: none is read while nothing changed."""
    watcher = PromptWatcher(PromptVersions(), session_factory)
    await watcher.round(settings, now=NOW)
    reads = []
    original = Path.read_bytes

    def counting(path: Path) -> bytes:
        reads.append(path)
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", counting)
    await watcher.round(settings, now=NOW + timedelta(minutes=1))
    assert reads == []


async def test_with_the_database_down_calls_still_get_the_audio_hash(settings):
    """No database at start: the map holds each file's hash (no number) and the round fails."""

    def unreachable():
        raise ConnectionRefusedError(111, "refused")

    versions = PromptVersions()
    with pytest.raises(ConnectionRefusedError):
        await PromptWatcher(versions, unreachable).round(settings, now=NOW)
    current = versions.lookup("announcement", "pl")
    assert current is not None
    assert current.version is None
    assert current.sha256 == sha_of(installed_path(settings, "pl", "announcement"))


def test_the_install_command_records_the_versions_as_the_operator(tmp_path, monkeypatch, capsys):
    """``callrec prompts install`` on a migrated database prints and audits each version."""
    monkeypatch.setattr("callrec_ari.__main__._actor", lambda: "ola")
    source = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS / "en", source / "en")
    config = write_config(
        tmp_path, prompts={"source_dir": str(source), "sounds_dir": str(tmp_path / "sounds")}
    )
    assert main(["migrate", "-c", str(config)]) == 0
    assert main(["prompts", "install", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    sha = sha_of(tmp_path / "sounds" / "en" / "callrec" / "announcement.wav")
    assert f"en/announcement: version 1 (sha256 {sha})" in out

    async def entries(sessions):
        async with sessions() as session:
            query = select(AuditEntry).where(AuditEntry.action == "prompt.version")
            return list(await session.scalars(query))

    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'callrec.sqlite3'}"
    found = on_database(url, entries)
    assert {entry.actor for entry in found} == {"cli:ola"}
    assert {detail(entry)["source"] for entry in found} == {"install"}
