"""One owner per sandbox instance: the lock, its holder's note, and numbered slots."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import slot_name
from callrec_ari.sandbox.lock import MAX_SLOT, Holder, InstanceLock, claim_slot, reserve_slot


def test_a_second_lock_of_the_same_instance_is_refused_naming_the_holder(tmp_path):
    """While one holder has the instance, another is told who, and nothing is taken over."""
    first = InstanceLock(tmp_path, "callrec")
    first.acquire("callrec sandbox up")
    second = InstanceLock(tmp_path, "callrec")
    busy = rf"in use by process {os.getpid()} \(callrec sandbox up\)"
    with pytest.raises(SandboxError, match=busy):
        second.acquire("callrec demo")
    first.release()
    second.acquire("callrec demo")
    assert second.holder() == Holder(pid=os.getpid(), command="callrec demo")
    second.release()


def test_the_lock_is_free_again_when_its_holder_dies(tmp_path):
    """A holder killed without clean-up leaves no stale lock: the kernel releases it."""
    code = (
        "import sys, time; from pathlib import Path;"
        "from callrec_ari.sandbox.lock import InstanceLock;"
        f"lock = InstanceLock(Path({str(tmp_path)!r}), 'callrec'); lock.acquire('child');"
        "print('locked', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        lock = InstanceLock(tmp_path, "callrec")
        assert not lock.try_acquire()
        assert lock.holder() == Holder(pid=child.pid, command="child")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert lock.try_acquire()
    assert lock.holder() is None  # the dead holder's note is gone
    lock.release()


def test_the_holder_may_name_the_configuration_of_the_service_it_runs(tmp_path):
    """``sandbox up`` tells other commands where its effective configuration is."""
    lock = InstanceLock(tmp_path, "callrec")
    lock.acquire("callrec sandbox up")
    lock.record(Holder(pid=1, command="callrec sandbox up", config=tmp_path / "sandbox.toml"))
    assert InstanceLock(tmp_path, "callrec").holder() == Holder(
        pid=1, command="callrec sandbox up", config=tmp_path / "sandbox.toml"
    )
    lock.release()
    with pytest.raises(SandboxError, match="not locked by this process"):
        lock.record(Holder(pid=1, command="x"))


def test_an_unreadable_holder_note_is_no_holder(tmp_path):
    """A damaged note makes the message vaguer, never a crash."""
    lock = InstanceLock(tmp_path, "callrec")
    lock.holder_path.write_text("{not json", encoding="utf-8")
    assert lock.holder() is None
    assert lock.busy_message() == "The sandbox instance callrec is in use by another process."


def test_slots_are_claimed_in_order_and_never_twice(tmp_path):
    """Each claimer gets the first free numbered slot; slot 0 (a person's) is never claimed."""
    first_slot, first = claim_slot(tmp_path, "run A")
    second_slot, second = claim_slot(tmp_path, "run B")
    assert (first_slot, second_slot) == (1, 2)
    first.release()
    third_slot, third = claim_slot(tmp_path, "run C")
    assert third_slot == 1
    second.release()
    third.release()


def test_a_reserved_slot_is_skipped_by_claimers_but_open_to_its_commands(tmp_path):
    """A test reserves a slot for the commands it runs: they lock it, nobody else claims it."""
    slot, reservation = reserve_slot(tmp_path, "README test")
    assert slot == 1
    other_slot, other = claim_slot(tmp_path, "another run")
    assert other_slot == 2
    command = InstanceLock(tmp_path, slot_name(slot))
    command.acquire("callrec demo")  # what the command started with this slot does
    command.release()
    reservation.release()
    third_slot, third = claim_slot(tmp_path, "a third run")
    assert third_slot == 1
    other.release()
    third.release()


def test_claiming_fails_with_one_sentence_when_every_slot_is_taken(tmp_path):
    """Sixteen concurrent runs is the limit, said plainly."""
    held = [claim_slot(tmp_path, f"run {n}")[1] for n in range(MAX_SLOT)]
    with pytest.raises(SandboxError, match=f"All {MAX_SLOT} sandbox slots are in use"):
        claim_slot(tmp_path, "one too many")
    for lock in held:
        lock.release()


def test_a_lock_folder_that_cannot_be_made_is_one_sentence(tmp_path):
    """A lock folder under a file is named, not a traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SandboxError, match="cannot be opened"):
        InstanceLock(blocker / "locks", "callrec").try_acquire()


def test_acquiring_may_wait_for_the_holder_to_let_go(tmp_path):
    """A holder that lets go within the wait hands the lock over; one that does not is named."""
    holder = InstanceLock(tmp_path, "stock")
    holder.acquire("first worker")
    waiter = InstanceLock(tmp_path, "stock")
    with pytest.raises(SandboxError, match=r"in use by process \d+ \(first worker\)"):
        waiter.acquire("second worker", wait_seconds=0.3)
    timer = threading.Timer(0.3, holder.release)
    timer.start()
    waiter.acquire("second worker", wait_seconds=10)
    timer.join()
    assert waiter.holder() == Holder(pid=os.getpid(), command="second worker")
    waiter.release()
