"""``callrec notice``: the live notice on standard output, or one sentence saying what is wrong."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.config import load
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.routing import store
from tests.support.database import on_database

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def write_config(tmp_path: Path, *, profile: bool = True) -> Path:
    """The example config on a migrated SQLite file in ``tmp_path``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    upgrade_to_head(url)
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"].update(url=url, journal_dir=str(tmp_path / "journal"))
    data["web"].update(secret_key_file=str(tmp_path / "web.key"))
    if not profile:
        del data["profile"]
        for route in data["route"]:
            for key in ("purposes", "legal_basis", "recipients"):
                route.pop(key, None)
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_the_notice_is_printed_in_the_language_asked(tmp_path, capsys):
    """Swedish text by default form; HTML when asked, in the asked language."""
    config = write_config(tmp_path)
    assert main(["notice", "-c", str(config), "--lang", "sv"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Dataskyddsbeskrivning: inspelning av telefonsamtal")
    assert "Nummer 5553000 (meddelande på svenska): sparas i 3 månader" in text
    assert main(["notice", "-c", str(config), "--lang", "ro", "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!doctype html>")
    assert '<html lang="ro">' in html


def test_the_admin_s_changes_are_in_the_printed_notice(tmp_path, capsys):
    """A policy the admin changed in the database is what the command prints."""
    config = write_config(tmp_path)
    settings = load(config, {})

    async def change(sessions):
        async with sessions() as session, session.begin():
            await store.set_policy(
                session,
                by=Actor.of("ada", Role.ADMIN),
                settings=settings,
                name="months-3",
                days=14,
                now=NOW,
            )

    on_database(settings.database.url, change)
    assert main(["notice", "-c", str(config), "--lang", "en"]) == 0
    assert "Number 5553000 (announcement in Swedish): kept for 14 days" in capsys.readouterr().out


def test_without_a_profile_the_command_says_so(tmp_path, capsys):
    """No [profile]: exit 2 and one sentence naming the table to fill in; nothing printed."""
    config = write_config(tmp_path, profile=False)
    assert main(["notice", "-c", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "callrec: The organisation profile is not filled in: set [profile] in the "
        "configuration (or on the admin's settings page) before a notice is published."
    )


def test_an_unknown_language_is_refused(tmp_path, capsys):
    """--lang accepts only the five languages and names them."""
    config = write_config(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(["notice", "-c", str(config), "--lang", "de"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'de' (choose from 'en', 'pl', 'sv', 'fi', 'ro')" in err
