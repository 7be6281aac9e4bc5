"""``callrec keys``: a new key file, the status, and a rotation stopped and run again."""

from __future__ import annotations

import asyncio
import contextlib
import io
import tomllib
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.config.encryption import read_master_key
from callrec_ari.crypto.keys import LocalMasterKeys
from callrec_ari.recording.seal import Sealer
from tests.rights.conftest import NOW
from tests.support.vault import pending, recorded_with_legs

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture
def config(tmp_path, database_url, vault):
    """The example config on the test database, with its master key made in tmp_path/var."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = database_url
    data["recording"]["service_dir"] = str(vault.recordings)
    data["log"]["level"] = "warning"
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _run(config, *argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["keys", *argv, "-c", str(config)], clock=lambda: NOW)
    return status, out.getvalue(), err.getvalue()


async def run(config, *argv):
    """Run ``callrec keys ...`` (in a thread: it runs an event loop of its own); its exit
    status and output."""
    return await asyncio.to_thread(_run, config, *argv)


async def test_rotate_from_the_command_line_stops_at_its_limit_and_finishes_when_run_again(
    config, tmp_path, vault
):
    """keys new makes a 0600 key; rotate --limit stops half-way; a second run finishes."""
    configured = tmp_path / "var" / "master.key"
    status, _, err = await run(config, "rotate")
    assert (status, "master key file" in err, "does not exist" in err) == (2, True, True)
    assert (await run(config, "new", "--out", str(configured)))[0] == 0
    old = read_master_key(configured)
    sealer = Sealer(
        recordings_dir=vault.recordings,
        keys=LocalMasterKeys(old),
        sessions=vault.sessions,
        clock=lambda: NOW,
    )
    records = [recorded_with_legs(vault.recordings, f"8.{n}") for n in range(3)]
    await vault.store(*records)
    for record in records:
        assert await sealer.seal(pending(record))

    new_file = tmp_path / "new.key"
    status, out, _ = await run(config, "new", "--out", str(new_file))
    assert status == 0
    new = read_master_key(new_file)
    assert new.key_id in out
    assert new_file.stat().st_mode & 0o777 == 0o600
    assert (await run(config, "new", "--out", str(new_file)))[0] == 2  # never overwrites a key

    status, out, _ = await run(config, "rotate", "--new-key-file", str(new_file), "--limit", "2")
    assert status == 0
    assert "Re-wrapped 2 recording key(s)" in out
    assert "1 left under older keys" in out
    status, out, _ = await run(config, "status")
    assert f"{new.key_id}  2 recording key(s)" in out
    assert f"{old.key_id}  1 recording key(s)  current" in out

    status, out, _ = await run(config, "rotate", "--new-key-file", str(new_file))
    assert (status, "Re-wrapped 1 recording key(s)" in out, "left" in out) == (0, True, False)
