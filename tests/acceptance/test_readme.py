"""The README's block "The sandbox, and every command on its recordings", run as written:
every command must have a check here, so the README cannot gain or change an example without
this test noticing (see readme_support for where and how the commands run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callrec_ari.recording import audio
from tests.acceptance.conftest import CACHE, sha256_of
from tests.acceptance.readme_support import (
    BLOCKS,
    NUMBER,
    Example,
    Folder,
    readme_examples,
    readme_folder,
)

pytestmark = pytest.mark.asterisk

PASSWORD = "correct horse battery staple"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    """A folder with a copy of the example config, on a reserved sandbox slot."""
    yield from readme_folder(tmp_path, CACHE)


def wait_for_line(process: subprocess.Popen[str], output: Path, text: str) -> str:
    """Wait until the process has printed ``text``; everything it printed so far."""
    for _ in range(1200):
        printed = output.read_text(errors="replace")
        if text in printed:
            return printed
        assert process.poll() is None, f"it ended without printing {text!r}:\n{printed}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not printed within 120 s:\n{printed}")


def test_the_sandbox_examples_do_what_their_comments_say(folder: Folder):
    """Every command of the second block, in order, against the sandbox it starts."""
    checks: dict[str, Callable[[Folder, Example], None]] = {
        "scripts/run-sandbox.sh": check_sandbox_up,
        ".venv/bin/callrec sandbox call 5551000": check_call,
        ".venv/bin/callrec calls -c var/sandbox.toml": check_calls,
        f".venv/bin/callrec find {NUMBER} -c var/sandbox.toml": check_find,
        (
            f".venv/bin/callrec requests new --kind access --number {NUMBER} "
            '--requester "the caller, by letter" -c var/sandbox.toml'
        ): check_request,
        (
            f".venv/bin/callrec export {NUMBER} --out var/export-1 --request 1 -c var/sandbox.toml"
        ): check_export,
        ".venv/bin/callrec purge --dry-run -c var/sandbox.toml": check_purge,
        f'.venv/bin/callrec erase {NUMBER} --reason "asked by phone" -c var/sandbox.toml': (
            check_erase
        ),
        ".venv/bin/callrec users create anna --role dpo -c var/sandbox.toml": check_user,
        ".venv/bin/callrec web -c var/sandbox.toml": check_web,
    }
    sandbox = readme_examples(BLOCKS[1])
    assert [example.command for example in sandbox] == list(checks)
    for example in sandbox:
        checks[example.command](folder, example)
    up = folder.background[0]
    os.killpg(up.pid, signal.SIGINT)  # "Ctrl-C stops all three"
    assert up.wait(30) == 0


def check_sandbox_up(folder: Folder, example: Example) -> None:
    """It starts, says where its configuration is, and that file holds absolute paths."""
    printed = wait_for_line(*folder.start(example.command), "Stop with Ctrl-C.")
    config = folder.root / "var" / "sandbox.toml"
    assert f"Its configuration:                  {config}" in printed
    assert config.stat().st_mode & 0o077 == 0  # it holds the ARI password
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert Path(data["recording"]["service_dir"]).is_absolute()
    assert data["database"]["url"] == f"sqlite+aiosqlite:///{folder.root / 'var/callrec.db'}"


def check_call(folder: Folder, example: Example) -> None:
    """sipp's log shows the call answered and hung up by the caller after talking."""
    log = folder.run(example.command).stdout
    assert f"answered {NUMBER}" in log
    assert f"hangup {NUMBER}" in log


def sandbox_rows(folder: Folder) -> list[dict[str, object]]:
    """The rows of the sandbox's database, newest first."""
    listed = folder.run(".venv/bin/callrec calls --json -c var/sandbox.toml")
    return [json.loads(line) for line in listed.stdout.splitlines()]


def check_calls(folder: Folder, example: Example) -> None:
    """The sandbox call is the newest row: recorded, with its file in the sandbox's folder."""
    printed = folder.run(example.command).stdout
    assert "consent: given" in printed
    newest = sandbox_rows(folder)[0]
    assert (newest["consent"], newest["recording_status"]) == ("given", "complete")


def check_find(folder: Folder, example: Example) -> None:
    """The caller's number in E.164, and their call."""
    printed = folder.run(example.command).stdout
    assert "+48221234567" in printed
    assert str(sandbox_rows(folder)[0]["uniqueid"]) in printed


def recordings_dir(folder: Folder) -> Path:
    """The sandbox's recordings folder, as its configuration says."""
    data = tomllib.loads((folder.root / "var" / "sandbox.toml").read_text(encoding="utf-8"))
    return Path(data["recording"]["service_dir"])


def check_request(folder: Folder, example: Example) -> None:
    """The access request the export answers is opened as request 1."""
    printed = folder.run(example.command).stdout
    assert printed.startswith("request 1 opened: access for +48221234567")


def check_export(folder: Folder, example: Example) -> None:
    """The export holds the caller's own leg, byte for byte what the row's SHA-256 says, and
    not the mix (the agent's voice stays in)."""
    folder.run(example.command)
    newest = sandbox_rows(folder)[0]
    recordings = folder.root / "var" / "export-1" / "recordings"
    exported = recordings / f"{newest['uniqueid']}.caller.wav"
    assert sha256_of(exported) == newest["caller_leg_sha256"]
    assert not (recordings / f"{newest['uniqueid']}.wav").exists()


def check_purge(folder: Folder, example: Example) -> None:
    """Nothing is due yet: the dry run names no call."""
    printed = folder.run(example.command).stdout
    assert "would purge 0 calls" in printed


def check_erase(folder: Folder, example: Example) -> None:
    """The recording is gone from the sandbox's folder and the row is reduced."""
    newest = sandbox_rows(folder)[0]
    wav = recordings_dir(folder) / str(newest["recording_path"])
    assert audio.exists(wav)  # sealed (<name>.wav.enc), as the example config asks
    folder.run(example.command)
    assert not audio.exists(wav)
    assert sandbox_rows(folder)[0]["recording_status"] == "deleted"


def check_user(folder: Folder, example: Example) -> None:
    """The password is asked for twice; without a terminal it is read from standard input."""
    folder.run(example.command, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    listed = folder.run(".venv/bin/callrec users list -c var/sandbox.toml").stdout
    assert "anna" in listed
    assert "dpo" in listed


def check_web(folder: Folder, example: Example) -> None:
    """The staff app answers its sign-in page on the configured port."""
    process, _output = folder.start(example.command)
    url = f"http://127.0.0.1:{folder.web_port}/login"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                assert response.status == 200
                assert "password" in response.read().decode().lower()
                break
        except OSError:
            assert process.poll() is None, "callrec web exited"
            time.sleep(0.1)
    else:
        raise AssertionError("callrec web did not answer within 10 s")
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(20) == 0
