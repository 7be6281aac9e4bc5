"""Replacing a prompt with an upload, as the admin's page and ``callrec prompts replace`` do:
checked against the routes in force, converted, audited and installed, or nothing at all."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.config import PromptSettings
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError
from callrec_ari.prompts import prompt_duration
from callrec_ari.prompts.catalog import installed_path, prompt_names, route_languages
from callrec_ari.prompts.replace import replace_prompt
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import route_change
from tests.flow.conftest import example_settings
from tests.prompts.conftest import make_tone, wav_shape
from tests.test_main import write_config

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)


@pytest.fixture
def settings(tmp_path: Path):
    """The example config, prompts built under tmp_path/prompts, installed under /sounds."""
    prompts = PromptSettings(source_dir=tmp_path / "prompts", sounds_dir=tmp_path / "sounds")
    return dataclasses.replace(example_settings(tmp_path), prompts=prompts)


@pytest.fixture
def tone(tmp_path: Path) -> bytes:
    """Two seconds of a tone as an MP3."""
    return make_tone(tmp_path / "take.mp3", seconds=2.0).read_bytes()


async def replace(session_factory, settings, *, language, name="announcement", upload, by=ADMIN):
    """One replacement in its own transaction, committed if it succeeds."""
    async with session_factory() as session, session.begin():
        return await replace_prompt(
            session,
            settings=settings,
            actor=by,
            language=language,
            name=name,
            upload=None if upload is None else io.BytesIO(upload),
            now=NOW,
            client="192.0.2.7",
        )


async def replacements(session_factory) -> list[AuditEntry]:
    async with session_factory() as session:
        query = select(AuditEntry).where(AuditEntry.action == "prompt.replace")
        return list(await session.scalars(query))


async def add_german_route(session_factory, settings, *, prompt="announcement"):
    """The admin routes 5559000 to German callers at run time."""
    change = route_change(
        "5559000", languages=["de"], prompt=prompt, retention="months-6", on_decline="connect"
    )
    async with session_factory() as session, session.begin():
        await routing.set_route(session, by=ADMIN, settings=settings, change=change, now=NOW)


def test_the_catalog_lists_what_the_routes_play(settings):
    """Every route's language; the announcements first, then the consent prompts."""
    assert route_languages(settings) == ["en", "fi", "pl", "ro", "sv"]
    assert prompt_names(settings)[0] == "announcement"
    assert "not-recorded" in prompt_names(settings)


async def test_an_upload_is_converted_installed_and_audited(session_factory, settings, tone):
    """An MP3 becomes the installed telephone WAV; the entry says what replaced what."""
    replaced = await replace(session_factory, settings, language="pl", upload=tone)
    target = installed_path(settings, "pl", "announcement")
    assert wav_shape(target) == (8000, 1, 2)
    assert prompt_duration(target) == pytest.approx(2.0, abs=0.1)
    assert (replaced.kind, replaced.previous_seconds) == ("mp3", None)
    [entry] = await replacements(session_factory)
    assert (entry.actor, entry.target) == ("ada", "prompt:pl/announcement")
    assert entry.client == "192.0.2.7"


async def test_a_language_an_admin_added_at_run_time_gets_its_prompt(
    session_factory, settings, tone
):
    """German is in no route of the config file: refused, then accepted once routed."""
    with pytest.raises(InputError, match=r"^Language 'de' is not one the routes play"):
        await replace(session_factory, settings, language="de", upload=tone)
    await add_german_route(session_factory, settings, prompt="welcome")
    await replace(session_factory, settings, language="de", upload=tone)
    await replace(session_factory, settings, language="de", name="welcome", upload=tone)
    assert installed_path(settings, "de", "welcome").exists()
    assert len(await replacements(session_factory)) == 2


@pytest.mark.parametrize(
    ("asked", "match"),
    [
        (("pl", "announcement", b"%PDF-1.7"), "not a WAV, MP3 or OGG"),
        (("pl", "announcement", None), "Choose an audio file"),
        (("pl", "../etc/x", b""), "not one the configuration plays"),
        (("../pl", "announcement", b""), "not one the routes play"),
    ],
)
async def test_a_refused_upload_changes_nothing(session_factory, settings, asked, match):
    """One sentence; no file written, no entry in the trail."""
    language, name, upload = asked
    with pytest.raises(InputError, match=match):
        await replace(session_factory, settings, language=language, name=name, upload=upload)
    assert not settings.prompts.sounds_dir.exists()
    assert await replacements(session_factory) == []


async def test_only_an_admin_replaces_prompts(session_factory, settings, tone):
    """A supervisor is refused before the upload is even read."""
    supervisor = Actor.of("sue", Role.SUPERVISOR)
    with pytest.raises(ForbiddenError, match="may not replace prompts"):
        await replace(session_factory, settings, language="pl", upload=tone, by=supervisor)
    assert await replacements(session_factory) == []


def test_the_command_line_replaces_a_prompt(tmp_path, tone, capsys, monkeypatch):
    """``callrec prompts replace``: the same checks and work, the operator in the trail."""
    monkeypatch.setattr("callrec_ari.__main__._actor", lambda: "ola")
    sounds = tmp_path / "sounds"
    config = write_config(
        tmp_path,
        prompts={"source_dir": str(tmp_path / "prompts"), "sounds_dir": str(sounds)},
        log={"level": "warning"},
    )
    assert main(["migrate", "-c", str(config)]) == 0
    take = tmp_path / "cli.mp3"
    take.write_bytes(tone)
    capsys.readouterr()
    argv = ["prompts", "replace", "-c", str(config), "--lang", "sv", "--prompt", "announcement"]
    assert main([*argv, "--file", str(take)], clock=lambda: NOW) == 0
    assert capsys.readouterr().out.startswith("sv/announcement.wav replaced: 2.0 s from MP3")
    assert prompt_duration(sounds / "sv" / "callrec" / "announcement.wav") == pytest.approx(
        2.0, abs=0.1
    )
    assert main([*argv[:-2], "--file", str(take)]) == 2
    assert "needs one --lang, a --prompt and a --file" in capsys.readouterr().err
