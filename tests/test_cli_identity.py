"""The command line's identity: every audit entry names the OS user and the sudo caller, and
reads of personal data from the command line are audited like the web's."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_main import write_config

NUMBER = "+46701234567"


def callrec(config: Path, *argv: str, os_user: str, sudo_user: str | None = None) -> str:
    """Run the real ``callrec`` as ``os_user`` (``sudo``'d by ``sudo_user``); its output."""
    env = {key: value for key, value in os.environ.items() if key != "SUDO_USER"}
    # getpass.getuser() reads these first, as it does for a real login.
    env |= {"LOGNAME": os_user, "USER": os_user, "LNAME": os_user, "USERNAME": os_user}
    if sudo_user is not None:
        env["SUDO_USER"] = sudo_user
    done = subprocess.run(
        [sys.executable, "-m", "callrec_ari", *argv, "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def trail(config: Path) -> list[tuple[str, str, str | None, dict[str, object]]]:
    """(actor, action, client, detail) of every audit entry, oldest first."""
    with sqlite3.connect(config.parent / "db" / "callrec.sqlite3") as db:
        rows = db.execute("SELECT actor, action, client, detail FROM audit_log ORDER BY seq")
        return [
            (actor, action, client, json.loads(detail)) for actor, action, client, detail in rows
        ]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A migrated SQLite database."""
    path = write_config(tmp_path)
    callrec(path, "migrate", os_user="root")
    return path


def test_every_entry_names_the_os_user_and_the_sudo_caller(config):
    """olga runs ``sudo callrec`` as root with ``--actor``: the trail still names root and olga."""
    callrec(
        config,
        "dnr",
        "add",
        NUMBER,
        "--reason",
        "asked by phone",
        "--actor",
        "dpo desk",
        os_user="root",
        sudo_user="olga",
    )
    callrec(config, "requests", "list", os_user="piotr")
    entries = trail(config)
    assert [(actor, action, client) for actor, action, client, _ in entries] == [
        ("dpo desk", "dsr.do_not_record_added", "cli:root sudo:olga"),
        ("piotr", "dsr.list", "cli:piotr"),
    ]


def test_callrec_calls_is_audited(config):
    """``callrec calls`` writes a search entry: who, the OS user, what was asked, how many."""
    assert callrec(config, "calls", "--limit", "5", "--json", os_user="olga") == ""
    assert trail(config) == [
        (
            "cli:olga",
            "search",
            "cli:olga",
            {"command": "calls", "asked": {"limit": 5}, "results": 0},
        )
    ]


def test_finding_a_number_and_listing_holds_and_users_are_audited(config):
    """find keeps only the number's last digits; hold list and users list are recorded too."""
    callrec(config, "find", NUMBER, os_user="olga", sudo_user="anna")
    callrec(config, "hold", "list", os_user="olga")
    callrec(config, "users", "list", os_user="olga")
    entries = trail(config)
    assert [(actor, action, client) for actor, action, client, _ in entries] == [
        ("olga", "search.subject", "cli:olga sudo:anna"),
        ("cli:olga", "hold.list", "cli:olga"),
        ("cli:olga", "users.list", "cli:olga"),
    ]
    find = entries[0][3]
    assert NUMBER not in json.dumps(find)
    assert find["results"] == 0
    assert find["command"] == "find"
