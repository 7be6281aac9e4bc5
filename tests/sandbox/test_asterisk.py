"""The sandbox's instances: per-slot addresses, and killing only this instance's Asterisk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import AsteriskSandbox, SandboxSettings, slot_name

DIALPLAN = Path(__file__).resolve().parents[2] / "dialplan"


def test_slot_zero_is_the_persons_sandbox_and_other_slots_never_share_an_address():
    """Slot 0 keeps the documented defaults; numbered slots differ in every address and range."""
    assert SandboxSettings.for_slot(0) == SandboxSettings()
    seen_hosts: set[str] = set()
    ranges: list[range] = [range(20000, 30000)]
    for slot in range(1, 17):
        settings = SandboxSettings.for_slot(slot)
        assert settings.name == slot_name(slot) == f"callrec-{slot}"
        hosts = {settings.sip_host, settings.trunk_host, settings.baseline_trunk_host}
        hosts |= {phone.host for phone in settings.phones}
        assert not hosts & (seen_hosts | {"127.0.0.1", "127.0.0.2", "127.0.0.3"})
        seen_hosts |= hosts
        rtp = range(settings.rtp_start, settings.rtp_end + 1)
        assert all(not set(rtp) & set(other) for other in ranges)
        ranges.append(rtp)
    with pytest.raises(SandboxError, match="between 0 and 249"):
        SandboxSettings.for_slot(250)


def fake_process(proc: Path, pid: int, root: Path, argv: list[str]) -> None:
    """A /proc/<pid> with a root link and a command line, as the kernel shows them."""
    folder = proc / str(pid)
    folder.mkdir(parents=True)
    (folder / "root").symlink_to(root)
    (folder / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


@pytest.fixture
def instance(tmp_path) -> AsteriskSandbox:
    rootfs = tmp_path / "rootfs"
    (rootfs / "usr/share/asterisk/sounds").mkdir(parents=True)
    return AsteriskSandbox(rootfs, SandboxSettings.for_slot(3), DIALPLAN)


def test_only_this_instances_asterisk_is_taken_for_its_own(instance, tmp_path):
    """Root and command line must both match; a reused pid or a sibling instance is left alone."""
    proc = tmp_path / "proc"
    conf = str(instance.instance / "etc" / "asterisk.conf")
    fake_process(proc, 10, instance.rootfs, ["asterisk", "-f", "-n", "-C", conf])
    fake_process(proc, 11, Path("/"), ["asterisk", "-f", "-n", "-C", conf])  # another root
    other = "/srv/callrec-4/etc/asterisk.conf"
    fake_process(proc, 12, instance.rootfs, ["asterisk", "-f", "-n", "-C", other])
    fake_process(proc, 13, instance.rootfs, ["vim", conf])  # someone editing the file
    assert instance.owns_process(10, proc)
    assert not instance.owns_process(11, proc)
    assert not instance.owns_process(12, proc)
    assert not instance.owns_process(13, proc)
    assert not instance.owns_process(14, proc)  # gone


def test_prepare_leaves_a_process_named_by_a_stale_pid_file_alone(instance):
    """A pid file pointing at a process that is not this Asterisk (here: the test itself)."""
    run = instance.host_instance / "run"
    run.mkdir(parents=True)
    (run / "asterisk.pid").write_text(str(os.getpid()))
    instance.prepare()  # would SIGKILL the test run if it trusted the pid file
    assert (instance.host_instance / "etc" / "asterisk.conf").is_file()


def test_prepare_installs_the_products_withdrawal_samples_as_they_are(instance):
    """The sandbox runs features.conf and musiconhold.conf exactly as dialplan/ ships them."""
    instance.prepare()
    etc = instance.host_instance / "etc"
    for sample, name in (
        ("features.conf.sample", "features.conf"),
        ("musiconhold.conf.sample", "musiconhold.conf"),
    ):
        assert (etc / name).read_bytes() == (DIALPLAN / sample).read_bytes()
