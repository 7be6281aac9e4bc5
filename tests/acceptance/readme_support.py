"""Running the README's example commands as written: the folder, the slot and the config.

The commands run in a folder of the test's own (``-c var/sandbox.toml`` is relative to it),
on a reserved numbered sandbox instance (``CALLREC_SANDBOX_SLOT``) and a copy of the example
config (``CALLREC_CONFIG``) whose announcements are short, so a block takes a minute instead
of several.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from callrec_ari.sandbox.lock import reserve_slot
from callrec_ari.sandbox.service import free_port
from callrec_ari.sandbox.session import PROJECT_DIR, lock_dir

README = PROJECT_DIR / "README.md"
BLOCKS = ("### See it work in a minute", "### The sandbox, and every command on its recordings")
NUMBER = "48221234567"


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


def readme_folder(tmp_path: Path, cache: Path) -> Iterator[Folder]:
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
    slot, reservation = reserve_slot(lock_dir(cache), "README test")
    env = {
        **os.environ,
        "CALLREC_CONFIG": str(config),
        "CALLREC_SANDBOX_SLOT": str(slot),
        "CALLREC_SANDBOX_CACHE": str(cache),
        "CALLREC_SKIP_SETUP": "1",  # set up already; a reinstall would upset other workers
    }
    run = Folder(tmp_path, env, web_port, [])
    yield run
    for process in run.background:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    reservation.release()


def printed_row(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON row ``demo`` prints after its progress line."""
    row: dict[str, object] = json.loads(result.stdout[result.stdout.index("{") :])
    return row
