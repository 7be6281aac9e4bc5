"""``callrec training make|list|delete`` and the purge's part: what the operator types and
sees, for the supervisor named with ``--as``."""

from __future__ import annotations

import contextlib
import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.staff import accounts
from tests.support.database import on_database
from tests.support.passwords import CHEAP_PASSWORDS
from tests.training.conftest import EXAMPLE, NOW, audit, copy_rows, store, toned

PASSWORD = "correct horse battery staple"
ADMIN = Actor.of("cli:test", Role.ADMIN)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    """A config on the test database, recordings and library under ``tmp_path``, with a
    supervisor ``jan``, an agent ``piotr`` and a disabled supervisor ``iza``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = database_url
    data["recording"]["service_dir"] = str(tmp_path / "recordings")
    data["log"]["level"] = "warning"
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    (tmp_path / "recordings").mkdir()

    async def staff(sessions) -> None:
        async with sessions() as session, session.begin():
            for name, role in (
                ("jan", Role.SUPERVISOR),
                ("piotr", Role.AGENT),
                ("iza", Role.SUPERVISOR),
            ):
                account = await accounts.create_user(
                    session,
                    by="cli:test",
                    username=name,
                    display_name=name.title(),
                    password=PASSWORD,
                    passwords=CHEAP_PASSWORDS,
                    roles=[role],
                    extension="agent100" if role is Role.AGENT else None,
                    now=NOW,
                )
            await accounts.set_disabled(
                session, by=ADMIN, user_id=account.id, disabled=True, now=NOW
            )
        await store(sessions, toned(tmp_path / "recordings", "1796000123.42"))

    on_database(database_url, staff)
    return path


def run(config: Path, *argv: str, now: datetime = NOW) -> tuple[int, str, str]:
    """Run one command at ``now``; its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([*argv[:1], "-c", str(config), *argv[1:]], clock=lambda: now)
    return status, out.getvalue(), err.getvalue()


def test_make_list_and_delete_from_the_command_line(config, database_url, tmp_path):
    """The supervisor's copy is made, listed without anything personal, and deleted; the
    trail names jan as the actor and the operating-system user as the client."""
    status, out, err = run(
        config,
        "training",
        "make",
        "1796000123.42",
        "--topic",
        "explaining the repair queue",
        "--silence",
        "1-1.5",
        "--silence",
        "0:02-0:02.5",
        "--caller",
        "remove",
        "--as",
        "jan",
    )
    assert status == 0, err
    copy_id = out.split()[2]
    assert out == (
        f"training copy {copy_id} made: made 2026-12  expires 2029-01-01  caller removed  "
        "language fi  topic: explaining the repair queue\n"
    )
    status, out, _ = run(config, "training", "list")
    assert (status, out) == (
        0,
        f"{copy_id}  made 2026-12  expires 2029-01-01  caller removed  language fi  "
        "topic: explaining the repair queue\n",
    )
    assert run(config, "training", "delete", copy_id, "--as", "jan")[:2] == (
        0,
        f"training copy {copy_id} deleted\n",
    )
    assert run(config, "training", "list")[1] == ""
    entries = on_database(database_url, audit)
    made = [e for e in entries if e.action.startswith("training.")]
    assert [(e.actor, e.action) for e in made] == [
        ("jan", "training.made"),
        ("jan", "training.deleted"),
    ]
    assert made[0].detail == '{"caller_voice":"removed","spans":2}'
    assert all(e.client and e.client.startswith("cli:") for e in made)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("nobody", "callrec: User nobody does not exist."),
        ("piotr", "callrec: piotr (agent) may not mark calls for training."),
        ("iza", "callrec: User iza is disabled and may not act."),
    ],
)
def test_only_an_enabled_supervisor_account_may_act(config, database_url, who, message):
    """An unknown name, an agent, a disabled supervisor: one line, exit 2, nothing made."""
    status, out, err = run(
        config, "training", "make", "1796000123.42", "--topic", "greeting", "--as", who
    )
    assert (status, out, err.strip()) == (2, "", message)
    assert on_database(database_url, copy_rows) == []


def test_a_refusal_is_one_sentence_without_a_traceback(config):
    """A span past the end of the call: the sentence names it."""
    status, _, err = run(
        config,
        "training",
        "make",
        "1796000123.42",
        "--topic",
        "x",
        "--silence",
        "3-90",
        "--as",
        "jan",
    )
    assert status == 2
    assert err.strip() == "callrec: The span '3-90' ends after the recording, which lasts 4.0 s."


def test_the_purge_deletes_expired_training_copies(config, database_url):
    """``callrec purge`` on the day a copy expires says so, and the file is gone."""
    run(config, "training", "make", "1796000123.42", "--topic", "greeting", "--as", "jan")
    [row] = on_database(database_url, copy_rows)
    library = config.parent / "recordings" / "training"
    assert (library / row.file).exists()
    later = datetime(2029, 1, 1, tzinfo=UTC)
    status, out, err = run(config, "purge", "--dry-run", "--no-progress", now=later)
    assert "would delete 1 expired training copy" in out.splitlines()
    status, out, err = run(config, "purge", "--no-progress", now=later)
    assert status == 0, err
    assert out.splitlines()[-1] == "deleted 1 expired training copy"
    assert not (library / row.file).exists()
