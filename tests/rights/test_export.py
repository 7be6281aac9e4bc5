"""The access package: copies checked against their rows, readable summaries, checksums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import update

from callrec_ari.copies.register import AgentConsent
from callrec_ari.db.models import Call
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.rights import export as export_module
from callrec_ari.rights.export import export_number
from callrec_ari.rights.restrict import restrict_call
from tests.rights.conftest import (
    AGENT,
    DIRECTOR,
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    files,
    open_export_request,
    recorded,
    snapshot,
    unrecorded,
)

# The calls of tests/db/records.py are answered by this agent; with the agent's consent the
# package holds the mix, as these tests check (test_export_copies.py: the caller's leg).
CONSENT = AgentConsent(agent="agent100", given_on="2026-11-30", how="signed form")


async def export(session_factory, recordings, out, *, actor=DPO, number=NUMBER, **more):
    """Export as the dpo answering a fresh access request, with the agent's consent."""
    if "request_id" not in more:
        more["request_id"] = await open_export_request(session_factory)
    more.setdefault("agent_consent", CONSENT)
    async with session_factory() as session, session.begin():
        return await export_number(
            session, recordings, number, out, actor=actor, now=NOW, region=REGION, **more
        )


def checksums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def calls_json(folder: Path) -> dict:
    return json.loads((folder / "calls.json").read_text(encoding="utf-8"))


async def test_the_package_holds_the_recordings_summaries_and_their_checksums(
    session_factory, store, recordings, tmp_path
):
    """Each copy is byte-identical; SHA256SUMS covers every file; another caller stays out."""
    first, second = recorded(recordings, "a1"), recorded(recordings, "a2", minutes=2)
    await store(
        first,
        second,
        unrecorded("declined", minutes=4),
        recorded(recordings, "b1", number="48229876543", e164=OTHER),
    )
    out = tmp_path / "package"

    package = await export(session_factory, recordings, out)

    assert (package.calls, package.problems, package.withheld) == (3, (), 0)
    assert sorted(p.name for p in (out / "recordings").iterdir()) == ["a1.wav", "a2.wav"]
    for record in (first, second):
        copy = out / "recordings" / f"{record.uniqueid}.wav"
        assert copy.read_bytes() == (recordings / record.recording_path).read_bytes()
    listed = checksums(out)
    on_disk = {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in out.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    assert listed == on_disk == package.files
    assert set(listed) == {
        "recordings/a1.wav",
        "recordings/a2.wav",
        "calls.json",
        "summary.html",
        "summary.txt",
    }
    document = calls_json(out)
    assert document["number"] == NUMBER
    by_id = {call["uniqueid"]: call for call in document["calls"]}
    assert list(by_id) == ["declined", "a2", "a1"]  # newest first
    assert by_id["a1"]["file"] == "recordings/a1.wav"
    assert by_id["a1"]["sha256"] == first.sha256
    assert by_id["declined"]["file"] is None
    assert by_id["declined"]["file_problem"] is None
    assert "recording_path" not in by_id["a1"]
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert "Recorded calls from +48221234567" in text
    assert first.sha256 in text
    assert "48229876543" not in text + (out / "summary.html").read_text(encoding="utf-8")


async def test_nothing_stored_changes_but_the_action_row(
    session_factory, store, recordings, tmp_path
):
    """Export reads: rows and files stay; one 'exported' action is the trace it leaves."""
    await store(recorded(recordings, "a1"))
    request_id = await open_export_request(session_factory)
    before, kept = await snapshot(session_factory), files(recordings)
    await export(session_factory, recordings, tmp_path / "out", request_id=request_id)
    after = await snapshot(session_factory)
    assert files(recordings) == kept
    assert {k: v for k, v in after.items() if k != "dsr_actions"} == {
        k: v for k, v in before.items() if k != "dsr_actions"
    }
    (action,) = set(after["dsr_actions"]) - set(before["dsr_actions"])
    assert "'exported'" in action
    assert f"folder {tmp_path / 'out'}" in action


async def test_a_restricted_call_is_exported_by_the_dpo_only(
    session_factory, store, recordings, tmp_path
):
    """The director exports nothing (he approves releases); the dpo's package has the
    restricted call, marked restricted."""
    await store(recorded(recordings, "open"), recorded(recordings, "locked", minutes=1))
    async with session_factory() as session, session.begin():
        await restrict_call(session, "locked", reason="objection", actor=DPO, now=NOW)

    with pytest.raises(ForbiddenError, match="may not export"):
        await export(session_factory, recordings, tmp_path / "d", actor=DIRECTOR)
    dpos = await export(session_factory, recordings, tmp_path / "p", actor=DPO)

    assert not (tmp_path / "d").exists()
    assert (dpos.calls, dpos.withheld) == (2, 0)
    locked = [c for c in calls_json(tmp_path / "p")["calls"] if c["uniqueid"] == "locked"]
    assert locked[0]["restricted"] is True
    assert (tmp_path / "p" / "recordings" / "locked.wav").exists()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _tamper(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


FILE_PROBLEMS = {
    "missing": (lambda p: p.unlink(), "does not exist"),
    "truncated": (_truncate, "truncated"),
    "changed": (_tamper, "SHA-256 differs"),
}


@pytest.mark.parametrize("case", FILE_PROBLEMS.values(), ids=FILE_PROBLEMS.keys())
async def test_a_bad_recording_is_reported_in_the_package_and_nothing_changes(
    session_factory, store, recordings, tmp_path, case
):
    """The damaged file is not copied; the package and the result say why; the rest is fine."""
    damage, message = case
    bad, good = recorded(recordings, "bad"), recorded(recordings, "good", minutes=1)
    await store(bad, good)
    damage(recordings / bad.recording_path)
    before, kept = await snapshot(session_factory), files(recordings)

    package = await export(session_factory, recordings, tmp_path / "out")

    assert [(p.uniqueid, message in p.message) for p in package.problems] == [("bad", True)]
    assert package.problems[0].message.startswith("The recording of call bad was not copied")
    assert sorted(p.name for p in (tmp_path / "out" / "recordings").iterdir()) == ["good.wav"]
    by_id = {c["uniqueid"]: c for c in calls_json(tmp_path / "out")["calls"]}
    assert by_id["bad"]["file"] is None
    assert message in by_id["bad"]["file_problem"]
    assert message in (tmp_path / "out" / "summary.txt").read_text()
    assert files(recordings) == kept
    after = await snapshot(session_factory)
    assert after["calls"] == before["calls"]


@pytest.mark.parametrize("path", ["../outside.wav", "/etc/hostname"])
async def test_a_path_outside_the_recordings_folder_is_never_followed(
    session_factory, store, recordings, tmp_path, path
):
    """The file outside is not read or copied; the package reports the row."""
    (tmp_path / "outside.wav").write_bytes(b"secret")
    await store(recorded(recordings, "bad"))
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Call).where(Call.uniqueid == "bad").values(recording_path=path)
        )
    package = await export(session_factory, recordings, tmp_path / "out")
    assert "outside the recordings folder" in package.problems[0].message
    assert list((tmp_path / "out" / "recordings").iterdir()) == []
    assert b"secret" not in b"".join(files(tmp_path / "out").values())


async def test_an_existing_folder_with_files_is_never_overwritten(
    session_factory, store, recordings, tmp_path
):
    """One clear error; the folder keeps its file; no action row; no temporary folder left."""
    await store(recorded(recordings, "a1"))
    out = tmp_path / "exports" / "out"
    out.mkdir(parents=True)
    (out / "mine.txt").write_text("keep me")
    request_id = await open_export_request(session_factory)
    before = await snapshot(session_factory)
    with pytest.raises(InputError, match="is not empty"):
        await export(session_factory, recordings, out, request_id=request_id)
    assert files(out) == {"mine.txt": b"keep me"}
    assert await snapshot(session_factory) == before
    assert [p.name for p in out.parent.iterdir()] == ["out"]


async def test_a_folder_filled_while_exporting_is_not_overwritten_either(
    session_factory, store, recordings, tmp_path, monkeypatch
):
    """Files appearing after the first check: the final rename refuses, the draft is removed."""
    await store(recorded(recordings, "a1"))
    out = tmp_path / "exports" / "out"
    out.mkdir(parents=True)
    monkeypatch.setattr(export_module, "_check_target", lambda folder: (folder / "late").touch())
    with pytest.raises(InputError, match="is not empty"):
        await export(session_factory, recordings, out)
    assert files(out) == {"late": b""}
    assert [p.name for p in out.parent.iterdir()] == ["out"]


async def test_a_file_in_the_way_is_refused(session_factory, store, recordings, tmp_path):
    """The output must be a folder; the file is left alone."""
    await store(recorded(recordings, "a1"))
    (tmp_path / "out").write_text("mine")
    with pytest.raises(InputError, match="is a file"):
        await export(session_factory, recordings, tmp_path / "out")
    assert (tmp_path / "out").read_text() == "mine"


async def test_an_empty_existing_folder_is_filled(session_factory, store, recordings, tmp_path):
    """An empty folder made beforehand (e.g. on a USB stick) is used."""
    await store(recorded(recordings, "a1"))
    (tmp_path / "out").mkdir()
    await export(session_factory, recordings, tmp_path / "out")
    assert (tmp_path / "out" / "recordings" / "a1.wav").exists()


async def test_the_html_summary_escapes_what_it_shows(session_factory, store, recordings, tmp_path):
    """A hostile agent name or number as received is text, not markup."""
    await store(recorded(recordings, "a1", agent="<script>alert(1)</script>"))
    await export(session_factory, recordings, tmp_path / "out")
    html = (tmp_path / "out" / "summary.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


BAD = {
    "an agent": ({"actor": AGENT}, ForbiddenError, "may not export"),
    "bad number": ({"number": "+48 (0) 22 abc"}, NumberError, "Phone number"),
    "unknown request": ({"request_id": 12}, NotFoundError, "Request 12"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
async def test_bad_exports_write_nothing(session_factory, store, recordings, tmp_path, case):
    """Refused before any file is written or any row added."""
    changes, error, message = case
    await store(recorded(recordings, "a1"))
    request_id = await open_export_request(session_factory)
    before = await snapshot(session_factory)
    with pytest.raises(error, match=message):
        await export(
            session_factory, recordings, tmp_path / "out", **{"request_id": request_id, **changes}
        )
    assert not (tmp_path / "out").exists()
    assert await snapshot(session_factory) == before
