"""The admin's prompts page: an upload replaces one installed prompt, a bad one changes nothing."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from aiohttp import FormData
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.config import PromptSettings
from callrec_ari.db.models import AuditEntry
from callrec_ari.prompts import prompt_duration
from tests.prompts.conftest import REPO_PROMPTS, make_tone, wav_shape
from tests.support.audio import write_wav
from tests.web.conftest import csrf, sign_in


@pytest.fixture
def settings(settings, tmp_path):
    """Prompts built under tmp_path/prompts and installed under tmp_path/sounds, English and
    Polish announcements in place as the committed ones."""
    prompts = PromptSettings(source_dir=tmp_path / "prompts", sounds_dir=tmp_path / "sounds")
    for language in ("en", "pl"):
        installed = prompts.sounds_dir / language / "callrec" / "announcement.wav"
        installed.parent.mkdir(parents=True)
        shutil.copy(REPO_PROMPTS / language / "announcement.wav", installed)
    return dataclasses.replace(settings, prompts=prompts)


@pytest.fixture
async def admin(client, person, clock):
    """The client, signed in as the admin ada."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    return client


def installed(settings, language, name="announcement"):
    return settings.prompts.sounds_dir / language / "callrec" / f"{name}.wav"


async def upload_form(client, data, *, filename="recording", language="pl", prompt="announcement"):
    form = FormData()
    form.add_field("csrf", await csrf(client, "/admin/prompts"))
    form.add_field("language", language)
    form.add_field("prompt", prompt)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return await client.post("/admin/prompts", data=form, allow_redirects=False)


async def replacements(session_factory) -> list[AuditEntry]:
    async with session_factory() as db:
        found = await db.scalars(select(AuditEntry).where(AuditEntry.action == "prompt.replace"))
        return list(found)


async def test_an_uploaded_mp3_replaces_the_announcement(
    admin, settings, tmp_path, session_factory
):
    """Converted to 8 kHz mono, installed and kept as the studio source; the name is ignored."""
    page = await (await admin.get("/admin/prompts")).text()
    assert 'enctype="multipart/form-data"' in page
    assert 'id="prompt-fi-announcement"' in page  # every language the routes use
    mp3 = make_tone(tmp_path / "studio.mp3", seconds=3.0)
    response = await upload_form(admin, mp3.read_bytes(), filename="../../../evil.mp3")
    assert response.status == 303, await response.text()
    target = installed(settings, "pl")
    assert wav_shape(target) == (8000, 1, 2)
    assert prompt_duration(target) == pytest.approx(3.0, abs=0.1)
    source = settings.prompts.source_dir / "pl"
    assert (source / "studio" / "announcement.wav").read_bytes() == target.read_bytes()
    assert (source / "announcement.wav").read_bytes() == target.read_bytes()
    assert not list(tmp_path.rglob("evil*"))
    listed = await (await admin.get("/api/admin/prompts")).json()
    row = next(
        p for p in listed["prompts"] if (p["language"], p["prompt"]) == ("pl", "announcement")
    )
    assert row["duration_seconds"] == pytest.approx(3.0, abs=0.1)
    [entry] = await replacements(session_factory)
    assert (entry.actor, entry.target) == ("ada", "prompt:pl/announcement")
    assert json.loads(entry.detail)["format"] == "mp3"


async def test_the_api_takes_an_ogg_for_a_language_not_yet_installed(admin, settings, tmp_path):
    """A Finnish announcement where none was: 201 with its length; the old studio MP3 goes."""
    studio = settings.prompts.source_dir / "fi" / "studio"
    studio.mkdir(parents=True)
    (studio / "announcement.mp3").write_bytes(b"an older studio file")
    ogg = make_tone(tmp_path / "take.ogg", seconds=2.0, codec="libvorbis")
    form = FormData({"language": "fi", "prompt": "announcement"})
    form.add_field("file", ogg.read_bytes(), filename="take.ogg", content_type="audio/ogg")
    token = await csrf(admin, "/admin/prompts")
    response = await admin.post("/api/admin/prompts", data=form, headers={"X-CSRF-Token": token})
    assert response.status == 201, await response.text()
    body = await response.json()
    assert (body["language"], body["prompt"]) == ("fi", "announcement")
    assert body["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    assert prompt_duration(installed(settings, "fi")) == pytest.approx(2.0, abs=0.1)
    assert sorted(path.name for path in studio.iterdir()) == ["announcement.wav"]


def _silent(path):
    write_wav(path, seconds=2.0, sample=b"\x00\x00")


def _quiet(path):
    write_wav(path, seconds=2.0, sample=b"\x10\x00")


BAD_UPLOADS = [
    (lambda path: path.write_bytes(b"%PDF-1.7 not a sound at all"), "not a WAV, MP3 or OGG"),
    (lambda path: path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk"), "damaged WAV"),
    (_silent, "is silent"),
    (_quiet, "too quiet"),
    (lambda path: make_tone(path, seconds=0.2), "too short"),
    (lambda path: make_tone(path, seconds=61.0, rate=8000, channels=1), "too long"),
]


async def test_a_bad_upload_leaves_the_old_prompt_byte_for_byte(
    admin, settings, tmp_path, session_factory
):
    """Not audio, damaged, silent, too quiet, too short or too long: one sentence, no change."""
    target = installed(settings, "pl")
    before = target.read_bytes()
    for index, (make, complaint) in enumerate(BAD_UPLOADS):
        path = tmp_path / f"bad{index}.wav"
        make(path)
        response = await upload_form(admin, path.read_bytes())
        assert response.status == 400, complaint
        assert complaint in await response.text()
        assert target.read_bytes() == before, complaint
    assert not (settings.prompts.source_dir / "pl").exists()
    assert await replacements(session_factory) == []


async def test_only_configured_languages_and_prompts_are_taken(admin, settings, tmp_path):
    """A language no route uses, or a path for a prompt name, is refused before decoding."""
    good = make_tone(tmp_path / "good.wav").read_bytes()
    for language, prompt in [("de", "announcement"), ("../pl", "announcement"), ("pl", "../x")]:
        response = await upload_form(admin, good, language=language, prompt=prompt)
        assert response.status == 400
    token = await csrf(admin, "/admin/prompts")
    missing = await admin.post(
        "/api/admin/prompts",
        data=FormData({"language": "pl", "prompt": "announcement"}),
        headers={"X-CSRF-Token": token},
    )
    assert (await missing.json())["error"] == "Choose an audio file to upload."
    assert not list(settings.prompts.sounds_dir.glob("de")) + list(tmp_path.rglob("x.wav"))


async def test_a_language_the_admin_routed_at_run_time_can_get_its_prompt(
    admin, settings, tmp_path
):
    """German is in no route of the config file; once the admin routes a number to it on
    the settings page, the prompts page lists it and takes its announcement."""
    good = make_tone(tmp_path / "good.wav").read_bytes()
    assert (await upload_form(admin, good, language="de")).status == 400
    token = await csrf(admin, "/admin/prompts")
    routed = await admin.post(
        "/api/admin/settings/routes",
        json={"did": "5559000", "languages": "de", "retention": "months-6"},
        headers={"X-CSRF-Token": token},
    )
    assert routed.status == 200, await routed.text()
    assert 'id="prompt-de-announcement"' in await (await admin.get("/admin/prompts")).text()
    response = await upload_form(admin, good, language="de")
    assert response.status == 303, await response.text()
    assert prompt_duration(installed(settings, "de")) > 0
