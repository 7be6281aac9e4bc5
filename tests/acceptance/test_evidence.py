"""Consent evidence of real calls (issue 11 §2): the hash of the audio Asterisk really played,
before and after the prompt is replaced, and ``callrec evidence`` printing the statement."""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.app import CONTROLLER, SESSIONS
from callrec_ari.config import parse
from callrec_ari.evidence.facts import Kind
from callrec_ari.prompts.catalog import installed_path
from callrec_ari.prompts.replace import replace_prompt
from callrec_ari.records import CallRecord, Consent
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.session import PROJECT_DIR
from callrec_ari.sandbox.sipp import CallerScript
from tests.acceptance.conftest import QUICK_DID, Service, acceptance_config, sha256_of, until
from tests.prompts.conftest import make_tone

pytestmark = pytest.mark.asterisk

PROMPT = "decline-hint"  # the quick line's announcement, and the hint after it


def heard_hashes(row: CallRecord) -> list[str | None]:
    """The SHA-256 of every prompt the row says the caller heard to its end."""
    return [
        prompt.sha256 for fact in row.evidence if fact.kind == Kind.HEARD for prompt in fact.prompts
    ]


async def test_two_calls_around_a_replaced_prompt_name_the_audio_each_heard(
    asterisk: AsteriskSandbox, tmp_path: Path, capsys
):
    """Call, replace the prompt, call again: each row names the hash Asterisk played then."""
    source = tmp_path / "prompts"
    shutil.copytree(PROJECT_DIR / "prompts", source)  # the replacement writes its studio copy
    data = acceptance_config(asterisk, tmp_path, service={"settings_refresh_seconds": 0.2})
    data["prompts"]["source_dir"] = str(source)
    config = tmp_path / "callrec.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    settings = parse(data, {}, base_dir=PROJECT_DIR)
    installed = installed_path(settings, "en", PROMPT)
    original = installed.read_bytes()
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    try:
        before = sha256_of(installed)
        first = await service.call(
            CallerScript(did=QUICK_DID, caller="48223000001", wait_ms=service.listen_ms(QUICK_DID))
        )
        assert first.ok, first.errors
        [row1] = await service.settled()

        take = make_tone(tmp_path / "take.mp3", seconds=2.0).read_bytes()
        async with service.app[SESSIONS]() as session, session.begin():
            await replace_prompt(
                session,
                settings=settings,
                actor=Actor.of("ada", Role.ADMIN),
                language="en",
                name=PROMPT,
                upload=io.BytesIO(take),
                now=row1.started_at,
            )
        after = sha256_of(installed)
        assert after != before
        versions = service.app[CONTROLLER].flow.versions
        await until(lambda: (versions.lookup(PROMPT, "en") or before) != before, within=10)

        second = await service.call(
            CallerScript(did=QUICK_DID, caller="48223000002", wait_ms=service.listen_ms(QUICK_DID))
        )
        assert second.ok, second.errors
        rows = await service.settled()
        [row2] = [row for row in rows if row.uniqueid != row1.uniqueid]
    finally:
        await service.stop()
        installed.write_bytes(original)  # the sandbox is shared with the other tests

    for row in (row1, row2):
        assert row.consent == Consent.GIVEN
        assert row.languages_played == ("en",)
        assert [fact.kind for fact in row.evidence][-2:] == [Kind.ENDED, Kind.RECORDING]
    # The announcement and the hint are the same file on this line: both hashes are its.
    assert heard_hashes(row1) == [before, before]
    assert heard_hashes(row2) == [after, after]
    v1 = row1.evidence[1].prompts[0].version
    v2 = row2.evidence[1].prompts[0].version
    assert v1 is not None
    assert v2 == v1 + 1

    status = await asyncio.to_thread(main, ["evidence", row2.uniqueid, "-c", str(config)])
    out = capsys.readouterr().out
    assert status == 0
    assert f"{PROMPT} v{v2} (en, sha256 {after})" in out
    assert "and the caller stayed on." in out
    assert "Recording started" in out
