"""Parsing ARI events: Asterisk 22's JSON in, typed events out, ``AriEventError`` for the rest."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callrec_ari.ari import models
from callrec_ari.ari.models import parse_event
from callrec_ari.errors import AriEventError
from tests.ari.fake_server import (
    AGENT_ID,
    CALLER_ID,
    KINDS,
    channel_json,
    dial,
    envelope,
    playback_finished,
    sample,
    stasis_start,
    withdrawn_event,
)

CREATED = datetime(2026, 11, 24, 9, 59, 1, 112000, tzinfo=UTC)
AT = datetime(2026, 11, 24, 9, 59, 1, 254000, tzinfo=UTC)


def test_stasis_start_carries_channel_args_and_caller() -> None:
    """StasisStart gives the channel, its caller number, app data and the Stasis args."""
    event = parse_event(stasis_start())

    assert isinstance(event, models.StasisStart)
    assert event.channel_id == CALLER_ID
    assert event.args == ("5551000",)
    assert event.timestamp == AT
    assert event.channel == models.Channel(
        id=CALLER_ID,
        name="PJSIP/trunk-00000006",
        state="Ring",
        caller_number="48221234567",
        context="callrec-consent",
        app_data="callrec,5551000",
        created=CREATED,
        app_name="Stasis",
    )


def test_creationtime_becomes_aware_utc() -> None:
    """ARI's ``+0000`` stamps (and other offsets) become timezone-aware UTC datetimes."""
    data = stasis_start()
    data["channel"]["creationtime"] = "2026-11-24T10:59:01.112+0100"
    data["timestamp"] = "2026-11-24T09:59:01+0000"

    event = parse_event(data)

    assert isinstance(event, models.StasisStart)
    assert event.channel.created == CREATED
    assert event.channel.created.tzinfo is UTC
    assert event.timestamp == datetime(2026, 11, 24, 9, 59, 1, tzinfo=UTC)
    assert event.timestamp.tzinfo is UTC


@pytest.mark.parametrize("stamp", [None, "", "yesterday", 1795514341, "2026-11-24 09:59:01"])
def test_unreadable_timestamp_means_now(stamp: Any) -> None:
    """A missing or unreadable stamp is taken as "now" in UTC rather than failing the event."""
    data = envelope("StasisEnd", channel=channel_json(), timestamp=stamp)
    before = datetime.now(UTC)

    event = parse_event(data)

    assert isinstance(event, models.StasisEnd)
    assert event.timestamp.tzinfo is UTC
    assert before <= event.timestamp <= datetime.now(UTC)


def test_stasis_start_without_args() -> None:
    """A StasisStart without ``args`` has an empty tuple of args."""
    data = stasis_start()
    del data["args"]

    event = parse_event(data)

    assert isinstance(event, models.StasisStart)
    assert event.args == ()


def test_stasis_end() -> None:
    """StasisEnd names the channel that left the application."""
    event = parse_event(sample("StasisEnd"))

    assert event == models.StasisEnd(timestamp=AT, channel_id=CALLER_ID)


def test_a_hang_up_request_names_the_channel_that_is_hanging_up() -> None:
    """ChannelHangupRequest (the caller's BYE) names the channel, whatever its cause."""
    event = parse_event(sample("ChannelHangupRequest"))

    assert event == models.HangupRequested(timestamp=AT, channel_id=CALLER_ID)


def test_the_dialplans_withdrawal_event_carries_its_own_time() -> None:
    """UserEvent callrec-withdrawn gives the caller's channel and the dialplan's clock."""
    event = parse_event(withdrawn_event("1795514353.847"))

    assert event == models.ConsentWithdrawn(
        timestamp=AT,
        channel_id=CALLER_ID,
        at=datetime.fromtimestamp(1795514353.847, UTC),
    )


@pytest.mark.parametrize("stamp", ["", "soon", "nan", "1e400"])
def test_a_withdrawal_event_without_a_usable_time_takes_the_events(stamp: str) -> None:
    """A missing or unreadable ``at`` is no reason to lose the withdrawal: the event's time."""
    event = parse_event(withdrawn_event(stamp))

    assert isinstance(event, models.ConsentWithdrawn)
    assert event.at == AT


def test_other_user_events_are_none_of_callrecs() -> None:
    """The admin's own UserEvents are ignored, not mistaken for a withdrawal."""
    data = withdrawn_event()
    data["eventname"] = "queue-stats"

    assert parse_event(data) is None


def test_dtmf_received() -> None:
    """ChannelDtmfReceived gives the channel and the digit."""
    event = parse_event(sample("ChannelDtmfReceived"))

    assert event == models.DtmfReceived(timestamp=AT, channel_id=CALLER_ID, digit="1")


@pytest.mark.parametrize("state", ["done", "failed"])
def test_playback_finished(state: str) -> None:
    """PlaybackFinished gives the channel from ``target_uri``, the playback id and its state."""
    event = parse_event(playback_finished(state=state))

    assert isinstance(event, models.PlaybackFinished)
    assert event.channel_id == CALLER_ID
    assert event.playback_id == "consent-1795514341.6"
    assert event.state == state
    assert event.failed is (state == "failed")


def test_dial_with_caller() -> None:
    """Dial from one of our channels gives the calling channel, the agent's channel and status."""
    event = parse_event(dial("ANSWER"))

    assert isinstance(event, models.Dial)
    assert event.channel_id == CALLER_ID
    assert event.peer.id == AGENT_ID
    assert event.peer.name == "PJSIP/agent1-00000007"
    assert event.dialstatus == "ANSWER"


def test_dial_progress_has_empty_status() -> None:
    """The first Dial event (ringing begins) carries an empty ``dialstatus``."""
    data = dial()
    data["dialstatus"] = ""

    event = parse_event(data)

    assert isinstance(event, models.Dial)
    assert event.dialstatus == ""


def test_dial_without_caller_is_ignored() -> None:
    """A Dial with no calling channel (an originate) is none of ours."""
    data = dial()
    del data["caller"]

    assert parse_event(data) is None


def test_channel_destroyed() -> None:
    """ChannelDestroyed gives the channel and the hang-up cause."""
    event = parse_event(sample("ChannelDestroyed"))

    assert event == models.ChannelDestroyed(timestamp=AT, channel_id=CALLER_ID, cause=16)


def test_channel_destroyed_without_numeric_cause() -> None:
    """A missing or non-numeric cause reads as 0 (unknown) rather than failing the event."""
    data = sample("ChannelDestroyed") | {"cause": "16"}

    event = parse_event(data)

    assert isinstance(event, models.ChannelDestroyed)
    assert event.cause == 0


@pytest.mark.parametrize(
    "data",
    [
        envelope("ChannelVarset", variable="CALLREC_CONSENT", value="yes", channel=channel_json()),
        envelope("ChannelDialplan", dialplan_app="Stasis", channel=channel_json()),
        envelope("ChannelStateChange", channel=channel_json()),
        {"type": 42},
        {"no": "type"},
        {},
    ],
    ids=["varset", "dialplan", "state-change", "numeric-type", "no-type", "empty"],
)
def test_ignored_types_give_none(data: dict[str, Any]) -> None:
    """Event types callrec does not act on are ignored, not errors."""
    assert parse_event(data) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["StasisStart"], "not a JSON object"),
        ("StasisStart", "not a JSON object"),
        (None, "not a JSON object"),
        (envelope("StasisStart", args=[]), "StasisStart is malformed"),
        (envelope("StasisEnd", channel="1795514341.6"), "StasisEnd is malformed"),
        (envelope("StasisEnd", channel={"id": 1795514341.6}), "StasisEnd is malformed"),
        (envelope("StasisEnd", channel={"name": "PJSIP/x"}), "StasisEnd is malformed"),
        (stasis_start() | {"args": "5551000"}, "StasisStart is malformed"),
        (stasis_start() | {"args": [5551000]}, "StasisStart is malformed"),
        (sample("ChannelDtmfReceived") | {"digit": 1}, "ChannelDtmfReceived is malformed"),
        (playback_finished(target="bridge:x"), "PlaybackFinished is malformed"),
        (playback_finished(target="channel:"), "PlaybackFinished is malformed"),
        (playback_finished(target="1795514341.6"), "PlaybackFinished is malformed"),
        (envelope("PlaybackFinished"), "PlaybackFinished is malformed"),
        (dial() | {"peer": None}, "Dial is malformed"),
        (dial() | {"caller": {"id": None}}, "Dial is malformed"),
    ],
    ids=[
        "list",
        "string",
        "null",
        "no-channel",
        "channel-is-text",
        "channel-id-number",
        "channel-without-id",
        "args-not-list",
        "arg-not-text",
        "digit-not-text",
        "bridge-playback",
        "empty-target",
        "target-without-scheme",
        "no-playback",
        "dial-without-peer",
        "dial-caller-without-id",
    ],
)
def test_malformed_events_raise_ari_event_error(data: Any, message: str) -> None:
    """A known event with a missing or mistyped field raises ``AriEventError`` naming its type."""
    with pytest.raises(AriEventError, match=message):
        parse_event(data)


def test_bridge_playback_message_names_the_target() -> None:
    """The error for a playback on a bridge quotes the target it could not use."""
    with pytest.raises(AriEventError, match="bridge:x"):
        parse_event(playback_finished(target="bridge:x"))


HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    "channel:",
    "\x00",
    "9999-99-99T99:99:99.999+9999",
    [],
    [None],
    ["x", 1],
    {},
    {"id": None},
    {"id": "x", "caller": "48221234567"},
    {"id": "x", "dialplan": ["callrec"]},
    {"target_uri": ["channel:x"]},
]


_DELETE = object()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key or index path inside a JSON value, parents before children."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index)
            yield from _paths(child, (*path, index))


def _mutations(data: dict[str, Any]) -> Iterator[Any]:
    """``data`` with one field deleted, or replaced by each hostile value in turn."""
    for path in _paths(data):
        *parents, last = path
        for replacement in (*HOSTILE_VALUES, _DELETE):
            mutated = copy.deepcopy(data)
            parent = mutated
            for key in parents:
                parent = parent[key]
            if replacement is _DELETE:
                del parent[last]
            else:
                parent[last] = copy.deepcopy(replacement)
            yield mutated
    yield from (copy.deepcopy(value) for value in HOSTILE_VALUES)


def test_mutated_payloads_never_raise_anything_but_ari_event_error() -> None:
    """Thousands of damaged events give an event, ``None`` or ``AriEventError``, nothing else."""
    outcomes = {"event": 0, "ignored": 0, "error": 0}
    for data in map(sample, KINDS):
        for mutated in _mutations(data):
            try:
                event = parse_event(mutated)
            except AriEventError:
                outcomes["error"] += 1
                continue
            if event is None:
                outcomes["ignored"] += 1
                continue
            outcomes["event"] += 1
            assert isinstance(event.channel_id, str), mutated
            assert event.timestamp.utcoffset() == timedelta(0), mutated

    assert sum(outcomes.values()) > 2000
    assert all(outcomes.values()), outcomes


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00.000+0100", "9999-12-31T23:59:59.999-0100"])
@pytest.mark.parametrize("field", ["timestamp", "creationtime"])
def test_out_of_range_stamp_is_not_a_crash(stamp: str, field: str) -> None:
    """A stamp at the edge of the calendar is no reason for anything but ``AriEventError``."""
    data = stasis_start()
    (data if field == "timestamp" else data["channel"])[field] = stamp

    try:
        event = parse_event(data)
    except AriEventError:
        return
    assert isinstance(event, models.StasisStart)
