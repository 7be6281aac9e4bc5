"""Leases: a peer whose value stops moving for the lease is dead once; moving again, alive."""

from __future__ import annotations

from callrec_ari.ha.lease import Leases, lease_variable


def test_a_peer_never_seen_gets_one_lease_from_our_start():
    """No value yet: dead only a whole lease after we started, and reported once."""
    leases = Leases(("b",), lease_seconds=3, now=100)
    leases.observe("b", "", 101)
    assert leases.newly_dead(102.9) == []
    assert leases.newly_dead(103) == ["b"]
    assert leases.newly_dead(110) == []


def test_a_moving_lease_keeps_a_peer_alive_by_our_clock():
    """Each new value restarts the lease, whatever the value says about the peer's clock."""
    leases = Leases(("b",), lease_seconds=3, now=0)
    for second in range(10):
        leases.observe("b", f"x:{second}", second)
        assert leases.newly_dead(second + 2.9) == []
    assert leases.newly_dead(12) == ["b"]


def test_a_dead_peer_whose_lease_moves_again_is_back():
    """A restarted peer writes a new value: it is alive, and may die (be taken over) again."""
    leases = Leases(("b",), lease_seconds=3, now=0)
    leases.observe("b", "old:1", 0)
    assert leases.newly_dead(3) == ["b"]
    assert leases.observe("b", "old:1", 4) is False  # the same value: still dead
    assert leases.observe("b", "new:1", 5) is True
    assert leases.view(6)["b"] == {"alive": True, "lease_age_seconds": 1.0}
    assert leases.newly_dead(8) == ["b"]


def test_a_failed_take_over_is_reported_again():
    """``retry`` puts a dead peer back, so the next round takes it over again."""
    leases = Leases(("b",), lease_seconds=3, now=0)
    assert leases.newly_dead(3) == ["b"]
    leases.retry("b")
    assert leases.newly_dead(3.1) == ["b"]


def test_each_instance_has_its_own_variable():
    """The lease lives in the global variable named after the instance's application."""
    assert lease_variable("callrec-b") == "CALLREC_LEASE_callrec-b"
