"""The README's example commands, run as written, each doing what its comment says.

The two blocks under "See it work in a minute" and "The sandbox, and every command on its
recordings" are read from README.md; every command in them must have a check here, so the
README cannot gain or change an example without this test noticing. The commands run in a
folder of the test's own (``-c var/sandbox.toml`` is relative to it), on a numbered sandbox
instance (``CALLREC_SANDBOX_SLOT``) and a copy of the example config (``CALLREC_CONFIG``) whose
announcements are short, so the run takes a minute instead of several.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.sandbox.lock import reserve_slot
from callrec_ari.sandbox.service import free_port
from callrec_ari.sandbox.session import PROJECT_DIR, lock_dir
from tests.acceptance.conftest import CACHE, sha256_of

pytestmark = pytest.mark.asterisk

README = PROJECT_DIR / "README.md"
BLOCKS = ("### See it work in a minute", "### The sandbox, and every command on its recordings")
NUMBER = "48221234567"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Example:
    """One line of a README code block: the command and what its comment promises."""

    command: str
    comment: str


def readme_examples(heading: str) -> list[Example]:
    """The commands of the first ``sh`` block after ``heading``."""
    text = README.read_text(encoding="utf-8")
    block = re.search(re.escape(heading) + r".*?```sh\n(.*?)```", text, re.DOTALL)
    assert block is not None, f"README has no sh block under {heading!r}"
    examples = []
    for line in block.group(1).splitlines():
        command, _, comment = line.partition("  #")
        if command.strip():
            examples.append(Example(command.strip(), comment.strip(" #")))
    return examples


@dataclass
class Folder:
    """Where the examples run: the config copy, the environment, the processes started."""

    root: Path
    env: dict[str, str]
    web_port: int
    background: list[subprocess.Popen[str]]

    def run(self, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """One README command, as written, from this folder; fails the test if it fails."""
        result = subprocess.run(
            self.argv(command),
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            start_new_session=True,  # no terminal: a password is read from stdin
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    def start(self, command: str) -> tuple[subprocess.Popen[str], Path]:
        """A README command that keeps running (the sandbox, the web app), and its output
        file (a file, not a pipe: a pipe nobody reads would stop it once full)."""
        output = self.root / f"background-{len(self.background)}.log"
        with output.open("w") as handle:
            process = subprocess.Popen(
                self.argv(command),
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        self.background.append(process)
        return process, output

    @staticmethod
    def argv(command: str) -> list[str]:
        words = shlex.split(command)
        if words[0] == ".venv/bin/callrec":
            return [sys.executable, "-m", "callrec_ari", *words[1:]]
        assert words[0] == "scripts/run-sandbox.sh"
        return [str(PROJECT_DIR / words[0]), *words[1:]]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    """A folder with a copy of the example config, on a free sandbox slot."""
    data = tomllib.loads((PROJECT_DIR / "config.example.toml").read_text(encoding="utf-8"))
    data["prompts"]["source_dir"] = str(PROJECT_DIR / "prompts")
    data["recording"]["finalise_timeout_seconds"] = 10
    data["ari"]["reconnect_max_seconds"] = 2
    web_port = free_port()
    data["service"]["port"] = free_port()
    data["web"]["port"] = web_port
    # Short announcements: the route's languages, hint and outcome stay what the README says.
    for route in [data["default_route"], *data["route"]]:
        route["prompt"] = "decline-hint"
    config = tmp_path / "config.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    # Reserved, not locked: the commands below lock the instance themselves.
    slot, reservation = reserve_slot(lock_dir(CACHE), "README test")
    env = {
        **os.environ,
        "CALLREC_CONFIG": str(config),
        "CALLREC_SANDBOX_SLOT": str(slot),
        "CALLREC_SANDBOX_CACHE": str(CACHE),
        "CALLREC_SKIP_SETUP": "1",  # set up already; a reinstall would upset other workers
    }
    run = Folder(tmp_path, env, web_port, [])
    yield run
    reservation.release()
    for process in run.background:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def printed_row(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON row ``demo`` prints after its progress line."""
    row: dict[str, object] = json.loads(result.stdout[result.stdout.index("{") :])
    return row


def check_demo(folder: Folder, example: Example) -> None:
    """Each demo call leaves the row its comment describes."""
    row = printed_row(folder.run(example.command))
    if "--press 9" in example.command:
        assert (row["consent"], row["recording_status"]) == ("declined", "none")
        assert row["agent"] == "agent100"  # "connected"
    else:
        assert (row["consent"], row["recording_status"]) == ("given", "complete")
    expected = ["fi", "sv"] if "5552000" in example.command else ["pl"]
    assert row["languages"] == expected


def wait_for_line(process: subprocess.Popen[str], output: Path, text: str) -> str:
    """Wait until the process has printed ``text``; everything it printed so far."""
    for _ in range(1200):
        printed = output.read_text(errors="replace")
        if text in printed:
            return printed
        assert process.poll() is None, f"it ended without printing {text!r}:\n{printed}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not printed within 120 s:\n{printed}")


def test_the_demo_examples_do_what_their_comments_say(folder: Folder):
    """Each ``demo`` of the first block, in order, against the real sandbox."""
    demos = readme_examples(BLOCKS[0])
    assert [example.command for example in demos] == [
        ".venv/bin/callrec demo",
        ".venv/bin/callrec demo 5552000",
        ".venv/bin/callrec demo --press 9",
    ]
    for example in demos:
        check_demo(folder, example)


def test_the_sandbox_examples_do_what_their_comments_say(folder: Folder):
    """Every command of the second block, in order, against the sandbox it starts."""
    checks: dict[str, Callable[[Folder, Example], None]] = {
        "scripts/run-sandbox.sh": check_sandbox_up,
        ".venv/bin/callrec sandbox call 5551000": check_call,
        ".venv/bin/callrec calls -c var/sandbox.toml": check_calls,
        f".venv/bin/callrec find {NUMBER} -c var/sandbox.toml": check_find,
        f".venv/bin/callrec export {NUMBER} --out var/export-1 -c var/sandbox.toml": check_export,
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


def check_export(folder: Folder, example: Example) -> None:
    """The export holds the recorded call's WAV, byte for byte what the row's SHA-256 says."""
    folder.run(example.command)
    newest = sandbox_rows(folder)[0]
    exported = folder.root / "var" / "export-1" / "recordings" / f"{newest['uniqueid']}.wav"
    assert sha256_of(exported) == newest["sha256"]


def check_purge(folder: Folder, example: Example) -> None:
    """Nothing is due yet: the dry run names no call."""
    printed = folder.run(example.command).stdout
    assert "would purge 0 calls" in printed


def check_erase(folder: Folder, example: Example) -> None:
    """The recording is gone from the sandbox's folder and the row is reduced."""
    newest = sandbox_rows(folder)[0]
    wav = recordings_dir(folder) / str(newest["recording_path"])
    assert wav.is_file()
    folder.run(example.command)
    assert not wav.exists()
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
