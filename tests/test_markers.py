"""Every test says what it needs: Asterisk, PostgreSQL or a browser (``-m`` relies on it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import UNMARKED, spread_out

TESTS = Path(__file__).resolve().parent


def test_every_collected_test_is_marked_with_what_it_needs(request: pytest.FixtureRequest):
    """A test using the sandbox, a PostgreSQL server or Chromium carries that marker."""
    assert request.config.stash[UNMARKED] == []


def test_the_check_notices_an_unmarked_test(tmp_path: Path):
    """A module starting a PostgreSQL server without the marker is named by the check."""
    module = TESTS / "test_zz_unmarked_probe.py"
    starts_a_server = "Postgres" + "Server("  # spelt apart, or this file would need the marker
    module.write_text(
        '"""Probe."""\n\n'
        "def test_probe():\n"
        '    """Starts a server, so it needs the postgres marker."""\n'
        f"    assert '{starts_a_server}'\n",
        encoding="utf-8",
    )
    check = f"{TESTS / 'test_markers.py'}::test_every_collected_test_is_marked_with_what_it_needs"
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "0",
                str(module),
                check,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=TESTS.parent,
        )
    finally:
        module.unlink()
    assert result.returncode == 1, result.stdout
    assert "test_zz_unmarked_probe.py::test_probe: postgres" in result.stdout


class FakeItem:
    """What ``spread_out`` looks at: a name, a module, and the fixtures' scopes."""

    def __init__(self, name: str, module: str, *, module_fixture: bool = False) -> None:
        self.name = name
        self.module = module
        scope = "module" if module_fixture else "function"
        self._fixtureinfo = type(
            "Info", (), {"name2fixturedefs": {"f": [type("Def", (), {"scope": scope})()]}}
        )()


def test_long_tests_are_spread_over_the_run_and_shared_fixtures_kept_together():
    """Each worker's first share gets its part of the long tests; a module-wide fixture's
    tests stay side by side."""
    long = [FakeItem(f"a{n}", "consent") for n in range(3)]
    stock = [FakeItem(f"s{n}", "stock", module_fixture=True) for n in range(2)]
    short = [FakeItem(f"u{n}", "unit") for n in range(8)]
    order = [item.name for item in spread_out([*long, *stock, *short], lambda i: i.name[0] in "as")]
    assert order == ["a0", "u0", "u1", "a1", "u2", "u3", "a2", "u4", "u5", "s0", "s1", "u6", "u7"]
