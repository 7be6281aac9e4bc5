"""Lease rounds and take-over, with the fake ARI and the real controller: a dead peer's
waiting calls are let through, its calls in conversation followed; our lease only while up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from callrec_ari.config.ha import HaSettings
from callrec_ari.errors import AriUnavailableError
from callrec_ari.flow.call import Phase
from callrec_ari.ha.lease import lease_variable
from callrec_ari.ha.takeover import LeaseKeeper, TakeOver
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from tests.db.records import ringing
from tests.flow.conftest import example_settings
from tests.flow.test_controller import Harness

HA = HaSettings(peers=("callrec-a",), lease_seconds=2.0)


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def in_conversation(uniqueid: str) -> CallRecord:
    """A call the peer connected with recording: its row not ended, recording under way."""
    return dataclasses.replace(
        ringing(uniqueid),
        consent=Consent.GIVEN,
        recording_path=f"2026/11/24/{uniqueid}.wav",
        recording_status=RecordingStatus.RECORDING,
    )


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    """The controller of the surviving instance (callrec-b) on the fake ARI."""
    return Harness(example_settings(tmp_path))


def peer_left(harness: Harness) -> dict[str, list[CallRecord]]:
    """Peer callrec-a dies leaving 1.1 in its announcement and 1.2 in conversation."""
    fake = harness.ari
    fake.add_channel("1.1", app_data="callrec-a,5551000,1.1", in_app=False)
    fake.add_channel("1.2", app_data="PJSIP/agent100,60", in_app=False, app_name="Dial")
    fake.peer_apps["callrec-a"] = ["1.1", "1.2"]
    return {"callrec-a": [ringing("1.1"), in_conversation("1.2")]}


async def test_a_dead_peers_calls_are_let_through_or_followed(harness: Harness):
    """The call in the announcement goes on unrecorded; the one in conversation is followed."""
    rows = peer_left(harness)

    async def unfinished(peer: str) -> list[CallRecord]:
        return rows[peer]

    registers: list[str] = []
    await TakeOver(harness.ari, harness.controller, unfinished, register=registers.append)(
        "callrec-a"
    )
    await harness.feed()
    assert registers == ["callrec-a"]  # its register lines taken, not stored: ours to import
    assert harness.ari.operations("1.1")[-2:] == ["subscribe", "continue"]
    assert harness.last("1.1").consent == Consent.INTERRUPTED
    assert harness.ari.operations("1.2")[-1] == "subscribe"  # never sent anywhere: it talks
    assert harness.controller.phase_of("1.2") == Phase.CONNECTED


def keeper(harness: Harness, clock: Clock, connected: list[bool], taken: list[str]) -> LeaseKeeper:
    async def unfinished(peer: str) -> list[CallRecord]:
        taken.append(peer)
        return []

    return LeaseKeeper(
        harness.ari,
        app="callrec-b",
        settings=HA,
        connected=lambda: connected[0],
        take_over=TakeOver(harness.ari, harness.controller, unfinished),
        clock=clock,
    )


async def test_a_peer_is_taken_over_once_its_lease_stops_and_only_then(harness: Harness):
    """While callrec-a renews nothing happens; two seconds after it stops, one take-over."""
    clock, taken = Clock(), []
    lease = keeper(harness, clock, [True], taken)
    for renewal in range(5):
        harness.ari.globals[lease_variable("callrec-a")] = f"t:{renewal}"
        await lease.round()
        clock.now += 0.5
    assert taken == []
    for _ in range(5):
        await lease.round()
        clock.now += 0.5
    assert taken == ["callrec-a"]
    assert harness.ari.globals[lease_variable("callrec-b")].endswith(":10")  # ours, renewed


async def test_without_its_socket_an_instance_neither_renews_nor_takes_over(harness: Harness):
    """Disconnected from Asterisk, our lease lapses (a peer takes ours) and we take nothing."""
    clock, taken = Clock(), []
    lease = keeper(harness, clock, [False], taken)
    for _ in range(10):
        await lease.round()
        clock.now += 0.5
    assert taken == []
    assert lease_variable("callrec-b") not in harness.ari.globals


async def test_a_take_over_that_fails_is_tried_again_next_round(harness: Harness):
    """Asterisk unreachable during the take-over: the round fails, the next one takes over."""
    clock, taken = Clock(), []
    lease = keeper(harness, clock, [True], taken)
    clock.now += 3
    harness.ari.failures["app_channel_ids"] = AriUnavailableError("down")
    with pytest.raises(AriUnavailableError):
        await lease.round()
    harness.ari.failures.clear()
    await lease.round()
    assert taken == ["callrec-a", "callrec-a"]  # rows read both times, channels once
    assert lease.leases.view(clock.now)["callrec-a"]["alive"] is False
