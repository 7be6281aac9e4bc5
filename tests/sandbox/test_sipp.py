"""The sandbox's staff phone: a leftover from a killed run is recognised and stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from callrec_ari.sandbox.asterisk import Phone
from callrec_ari.sandbox.sipp import is_phone_process, kill_leftover_phone

PHONE = Phone(endpoint="agent100", host="127.0.7.3")


def test_only_sipp_on_the_phones_own_address_and_port_is_the_phone():
    """Another address, another port or another program is left alone."""
    argv = ["/usr/bin/sipp", "-sf", "agent.xml", "-i", "127.0.7.3", "-p", "5060", "-nostdin"]
    assert is_phone_process(argv, PHONE)
    assert not is_phone_process([*argv[:4], "127.0.8.3", *argv[5:]], PHONE)
    assert not is_phone_process([*argv[:6], "5062", *argv[7:]], PHONE)
    assert not is_phone_process(["/usr/bin/python3", *argv[1:]], PHONE)
    assert not is_phone_process([], PHONE)


def test_a_leftover_phone_is_killed_and_anything_else_named_by_the_pid_file_is_not(
    tmp_path: Path,
):
    """The pid file of a killed run may name the phone, or, after a reboot, anything."""
    wait = "import time; time.sleep(30)"
    # A process whose command line is the phone's: sipp, its address and port.
    phone = subprocess.Popen(
        ["sipp", "-c", wait, "-i", PHONE.host, "-p", "5060"], executable=sys.executable
    )
    other = subprocess.Popen([sys.executable, "-c", wait])
    pid_file = tmp_path / "agent.pid"
    try:
        pid_file.write_text(str(other.pid))
        assert not kill_leftover_phone(pid_file, PHONE)
        assert other.poll() is None
        pid_file.write_text(str(phone.pid))
        assert kill_leftover_phone(pid_file, PHONE)
        assert phone.wait(5) == -9
        assert not kill_leftover_phone(tmp_path / "missing.pid", PHONE)
    finally:
        for process in (phone, other):
            process.kill()
            process.wait()
