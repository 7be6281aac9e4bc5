"""A date typed on the web means what it means on the command line: ``until 2026-11-30``
takes in 23:00 on the 30th, in the call search, a hold's period and the audit trail."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.access import Role
from callrec_ari.audit.trail import append
from callrec_ari.config import Settings
from callrec_ari.db.repository import upsert_calls
from tests.lifecycle.conftest import recorded
from tests.web.conftest import EXAMPLE, csrf, sign_in

LATE = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # inside "until 2026-11-30"
NEXT_DAY = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # the first moment outside it
NUMBER = "+48 22 123 45 67"  # the caller of tests.db.records


@pytest.fixture
def config_file(tmp_path: Path, settings: Settings) -> Path:
    """The command line's config: the web app's database and recordings folder."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = settings.database.url
    data["recording"]["service_dir"] = str(settings.recording.service_dir)
    data["log"]["level"] = "warning"
    path = tmp_path / "cli.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
async def late_and_next(settings, session_factory) -> None:
    """A call and an audit entry at 23:00 on 30 November, and one of each at midnight."""
    recordings = settings.recording.service_dir
    async with session_factory() as db, db.begin():
        await upsert_calls(
            db,
            [
                recorded("late.1", recordings, start=LATE, policy="months-6"),
                recorded("next.1", recordings, start=NEXT_DAY, policy="months-6"),
            ],
        )
        for at in (LATE, NEXT_DAY):
            await append(db, at=at, actor="someone", action="test.mark", client=None)


async def cli(config: Path, clock, *argv: str) -> tuple[int, str]:
    """Run ``callrec`` (in a worker thread: it runs its own event loop); status and stdout."""

    def run() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = main([*argv[:1], "-c", str(config), *argv[1:]], clock=clock)
        return status, out.getvalue()

    return await asyncio.to_thread(run)


@pytest.mark.usefixtures("late_and_next")
async def test_until_a_day_includes_its_last_hour_on_the_web_and_the_command_line(
    client, person, clock, config_file
):
    """The same date gives the same calls held and the same trail entries either way."""
    await sign_in(client, await person("sue", Role.SUPERVISOR, Role.DPO), clock)
    token = await csrf(client, "/calls")

    found = await (await client.get("/api/calls", params={"until": "2026-11-30"})).json()
    assert [call["uniqueid"] for call in found["calls"]] == ["late.1"]

    period = {"from": "2026-11-30", "to": "2026-11-30"}
    held = await client.post(
        "/api/holds",
        json={"number": NUMBER, **period, "case_reference": "C-1", "reason": "court order"},
        headers={"X-CSRF-Token": token},
    )
    assert (held.status, (await held.json())["calls"]) == (201, 1)
    status, out = await cli(
        config_file,
        clock,
        "hold",
        "place",
        "--case",
        "C-2",
        "--reason",
        "court order",
        "--number",
        NUMBER,
        "--from",
        "2026-11-30",
        "--to",
        "2026-11-30",
    )
    assert (status, out) == (0, "hold 2 placed on 1 call (case C-2)\n")

    web = await (await client.get("/api/audit", params={"until": "2026-11-30"})).json()
    status, out = await cli(config_file, clock, "audit", "show", "--until", "2026-11-30", "--json")
    assert status == 0
    on_the_web = [(entry["seq"], entry["at"]) for entry in web["entries"]]
    assert on_the_web == [(entry["seq"], entry["at"]) for entry in json.loads(out)]
    assert [datetime.fromisoformat(at) for _, at in on_the_web] == [LATE]
