"""deploy/systemd: the units systemd-analyze accepts, hardened, running real callrec commands."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
SERVICES = ("callrec.service", "callrec-web.service", "callrec-purge.service")
INSTALLED = "/opt/callrec/bin/callrec"
CALLREC = Path(sys.executable).with_name("callrec")  # this checkout's, in place of INSTALLED
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit(name: str) -> configparser.ConfigParser:
    """One unit file, read as INI (repeated keys kept, joined by newlines)."""
    parser = configparser.ConfigParser(
        strict=False, interpolation=None, empty_lines_in_values=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name, encoding="utf-8")
    return parser


@pytest.fixture
def local_units(tmp_path: Path) -> Path:
    """The units with ExecStart on this checkout's callrec: systemd-analyze checks it exists."""
    for path in UNITS.iterdir():
        text = path.read_text(encoding="utf-8").replace(INSTALLED, str(CALLREC))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    return tmp_path


@needs_systemd
def test_systemd_analyze_verifies_every_unit(local_units: Path):
    """No warning from ``systemd-analyze verify`` for the services and the purge timer."""
    paths = sorted(str(path) for path in local_units.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", *paths], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_systemd
@pytest.mark.parametrize("name", SERVICES)
def test_each_service_is_exposed_at_most_2_of_10(local_units: Path, name: str):
    """``systemd-analyze security`` rates each service "OK" (1.5 when written; its
    threshold counts in tenths)."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(local_units / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-400:]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_as_callrec_with_asterisks_group_and_writes_only_its_folders(name):
    """A dedicated user, Asterisk's group, a read-only system but for the state and
    recordings folders, no new privileges and no capabilities."""
    service = unit(name)["Service"]
    assert (service["User"], service["Group"], service["SupplementaryGroups"]) == (
        "callrec",
        "callrec",
        "asterisk",
    )
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    assert service["StateDirectory"] == "callrec"
    assert "/var/spool/asterisk/callrec" in service["ReadWritePaths"].split()
    assert service["UMask"] == "0007"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_starts_a_callrec_command_that_exists(name):
    """The command line of ExecStart is one callrec accepts (its --help answers)."""
    command = shlex.split(unit(name)["Service"]["ExecStart"])
    assert command[0] == INSTALLED
    result = subprocess.run(
        [str(CALLREC), *command[1:], "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_purge_timer_starts_the_purge_hourly_and_catches_up():
    """callrec-purge.timer: hourly, and a run missed while the machine was off runs at boot."""
    timer = unit("callrec-purge.timer")
    assert timer["Timer"]["OnCalendar"] == "hourly"
    assert timer["Timer"]["Persistent"] == "true"
    assert (UNITS / "callrec-purge.service").is_file()
