"""The sandbox's phones: the keys a phone presses, the transfers it makes, and a leftover from
a killed run is recognised and stopped."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import Phone
from callrec_ari.sandbox.sipp import (
    Transfer,
    agent_scenario,
    dtmf_pcap,
    is_phone_process,
    kill_leftover_phone,
)

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


def pressed_keys(scenario: str) -> list[tuple[str, int]]:
    """Each key the scenario presses, with the pause just before it, in order."""
    found = re.findall(r'<pause milliseconds="(\d+)"/>\s*<!-- The caller presses (\S+) ', scenario)
    return [(key, int(pause)) for pause, key in found]


def test_a_phone_presses_a_sequence_of_keys_in_order_each_after_its_delay():
    """Agree with 1 four seconds after answering, withdraw with 9 three seconds later; both
    are sent from sipp's own captures and logged, before the phone starts talking."""
    scenario = agent_scenario(presses=[("1", 4000), ("9", 3000)])
    assert pressed_keys(scenario) == [("1", 4000), ("9", 3000)]
    assert scenario.count('<log message="pressed ') == 2
    assert str(dtmf_pcap("1")) in scenario
    assert str(dtmf_pcap("9")) in scenario
    assert scenario.index(str(dtmf_pcap("9"))) < scenario.index("g711a.pcap")


def test_the_single_key_of_older_callers_still_works_and_comes_first():
    """press/press_after_ms keep their meaning; with presses too, the single key comes first;
    no key at all leaves the phone just talking."""
    assert pressed_keys(agent_scenario(press="9", press_after_ms=1500)) == [("9", 1500)]
    both = agent_scenario(press="1", press_after_ms=4000, presses=[("#", 2000)])
    assert pressed_keys(both) == [("1", 4000), ("#", 2000)]
    assert "pressed" not in agent_scenario()


@pytest.mark.parametrize(
    ("presses", "message"), [([("12", 0)], "cannot press '12'"), ([("9", -1)], "negative")]
)
def test_a_key_sipp_cannot_send_is_refused_before_the_phone_starts(
    presses: list[tuple[str, int]], message: str
):
    """A typo in a test's script fails at once, naming the key, instead of a silent call."""
    with pytest.raises(SandboxError, match=message):
        agent_scenario(presses=presses)


def test_a_blind_transfer_refers_the_caller_to_the_target_after_its_delay():
    """REFER on the caller's dialog names the target at the PBX's own address, after the
    delay; the phone then leaves (Asterisk's BYE or its own) instead of talking to the end."""
    scenario = agent_scenario(transfer=Transfer(kind="blind", target="agent101", after_ms=2500))
    assert '<pause milliseconds="2500"/>' in scenario
    assert "Refer-To: <sip:agent101[$pbx]>" in scenario
    assert "Replaces" not in scenario
    assert scenario.count('<recv request="BYE"') == 1


def test_an_attended_transfer_calls_the_target_first_and_replaces_that_call():
    """A consultation INVITE on a second dialog of the same sipp call, then REFER whose
    Refer-To replaces it by Call-ID and both tags; both of the phone's legs end."""
    scenario = agent_scenario(
        transfer=Transfer(kind="attended", target="agent101", after_ms=1000, consult_ms=3000)
    )
    assert "INVITE sip:agent101[$pbx] SIP/2.0" in scenario
    assert "Call-ID: consult///[call_id]" in scenario
    assert '<pause milliseconds="3000"/>' in scenario
    assert "?Replaces=consult%2F%2F%2F[call_id]%3Bto-tag%3D[$consult_tag]%3Bfrom-tag%3D" in (
        scenario
    )
    assert scenario.count('<recv request="BYE"') == 2
    assert len(set(re.findall(r'<label id="([^"]+)"/>', scenario))) == 4


def test_a_transfer_target_that_is_not_a_plain_extension_is_refused():
    """A target with SIP syntax in it would break the REFER: refused, naming it."""
    with pytest.raises(SandboxError, match="'agent101>;x' is not a plain extension"):
        agent_scenario(transfer=Transfer(kind="blind", target="agent101>;x"))
