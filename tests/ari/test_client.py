"""The ARI REST client against a fake Asterisk: requests sent, answers and failures understood."""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import unquote

import aiohttp
import pytest

from callrec_ari.ari.client import AriClient
from callrec_ari.ari.models import Channel
from callrec_ari.errors import AriError, AriUnavailableError, ChannelGoneError
from tests.ari.conftest import APP, PASSWORD, USERNAME, ari_settings
from tests.ari.fake_server import FakeAsterisk, RawServer, Reply, Seen, channel_json

CHANNEL = "1795514341.6"

Operation = Callable[[AriClient], Awaitable[object]]


def only_request(server: FakeAsterisk) -> Seen:
    """The one request the server received."""
    assert len(server.requests) == 1, server.requests
    return server.requests[0]


async def test_answer(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``answer`` posts to the channel's ``answer`` resource."""
    await client.answer(CHANNEL)

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path, seen.query) == (
        "POST",
        f"/ari/channels/{CHANNEL}/answer",
        {},
    )


async def test_play(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``play`` names the playback in the path and sends media joined by commas and the language."""
    fake_ari.reply(
        "POST",
        f"/ari/channels/{CHANNEL}/play/consent-1",
        Reply(status=201, json={"id": "consent-1", "state": "queued"}),
    )

    await client.play(
        CHANNEL, ["sound:callrec-consent", "sound:beep"], language="pl", playback_id="consent-1"
    )

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path) == ("POST", f"/ari/channels/{CHANNEL}/play/consent-1")
    assert seen.query == {"media": "sound:callrec-consent,sound:beep", "lang": "pl"}


async def test_stop_playback(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``stop_playback`` deletes the playback."""
    await client.stop_playback("consent-1")

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path, seen.query) == ("DELETE", "/ari/playbacks/consent-1", {})


async def test_set_variables_sends_one_request_each(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """``set_variables`` posts each variable with its value to the channel's ``variable``."""
    await client.set_variables(CHANNEL, {"CALLREC_CONSENT": "yes", "CALLREC_FILE": "a b,c.wav"})

    assert {(r.method, r.raw_path) for r in fake_ari.requests} == {
        ("POST", f"/ari/channels/{CHANNEL}/variable")
    }
    assert sorted(tuple(r.query.items()) for r in fake_ari.requests) == [
        (("variable", "CALLREC_CONSENT"), ("value", "yes")),
        (("variable", "CALLREC_FILE"), ("value", "a b,c.wav")),
    ]


async def test_set_no_variables_sends_nothing(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """An empty mapping of variables costs no request."""
    await client.set_variables(CHANNEL, {})

    assert fake_ari.requests == []


async def test_subscribe(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``subscribe`` adds ``channel:<id>`` as an event source of our application."""
    fake_ari.reply("POST", f"/ari/applications/{APP}/subscription", Reply(200, json={"name": APP}))

    await client.subscribe(CHANNEL)

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path) == ("POST", f"/ari/applications/{APP}/subscription")
    assert seen.query == {"eventSource": f"channel:{CHANNEL}"}


async def test_continue_in_dialplan(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``continue_in_dialplan`` sends the channel to ``context``, extension ``s``, priority 1."""
    await client.continue_in_dialplan(CHANNEL, "callrec-record")

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path) == ("POST", f"/ari/channels/{CHANNEL}/continue")
    assert seen.query == {"context": "callrec-record", "extension": "s", "priority": "1"}


async def test_hangup(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``hangup`` deletes the channel with reason ``normal``."""
    await client.hangup(CHANNEL)

    seen = only_request(fake_ari)
    assert (seen.method, seen.raw_path) == ("DELETE", f"/ari/channels/{CHANNEL}")
    assert seen.query == {"reason": "normal"}


async def test_get_channel(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``get_channel`` reads the channel Asterisk returns."""
    fake_ari.reply("GET", f"/ari/channels/{CHANNEL}", Reply(200, json=channel_json(CHANNEL)))

    channel = await client.get_channel(CHANNEL)

    assert channel == Channel(
        id=CHANNEL,
        name="PJSIP/trunk-00000006",
        state="Ring",
        caller_number="48221234567",
        context="callrec-consent",
        app_data="callrec,5551000",
        created=datetime(2026, 11, 24, 9, 59, 1, 112000, tzinfo=UTC),
        app_name="Stasis",
    )
    assert only_request(fake_ari).method == "GET"


async def test_app_channel_ids(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """``app_channel_ids`` lists the channels in our application."""
    application = {
        "name": APP,
        "channel_ids": [CHANNEL, "1795514342.7"],
        "bridge_ids": [],
        "endpoint_ids": [],
        "device_names": [],
        "events_allowed": [],
        "events_disallowed": [],
    }
    fake_ari.reply("GET", f"/ari/applications/{APP}", Reply(200, json=application))

    assert await client.app_channel_ids() == [CHANNEL, "1795514342.7"]
    assert only_request(fake_ari).method == "GET"


async def test_started_at_is_asterisks_startup_time(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """``started_at`` reads when Asterisk started from ``/asterisk/info``."""
    info = {"status": {"startup_time": "2026-12-03T09:00:00.123+0000"}, "system": {}}
    fake_ari.reply("GET", "/ari/asterisk/info", Reply(200, json=info))

    assert await client.started_at() == "2026-12-03T09:00:00.123+0000"


async def test_started_at_without_a_startup_time_is_an_error(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """An info answer that does not say when Asterisk started is a clear ``AriError``."""
    fake_ari.reply("GET", "/ari/asterisk/info", Reply(200, json={"system": {}}))

    with pytest.raises(AriError, match="did not say when Asterisk started"):
        await client.started_at()


async def test_bridged_with_names_the_other_channels_of_the_callers_bridge(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """After an attended transfer: the bridge holding the caller is found among all bridges,
    and its other channel read; a channel in no bridge is with nobody."""
    agent = "1795514343.8"
    bridges = [
        {"id": "b-other", "channels": ["1795514399.1", "1795514399.2"]},
        {"id": "b-call", "channels": [CHANNEL, agent]},
    ]
    fake_ari.reply("GET", "/ari/bridges", Reply(200, json=bridges))
    fake_ari.reply(
        "GET",
        f"/ari/channels/{agent}",
        Reply(200, json=channel_json(agent, name="PJSIP/agent101-00000009")),
    )

    [found] = await client.bridged_with(CHANNEL)

    assert (found.id, found.name) == (agent, "PJSIP/agent101-00000009")
    assert await client.bridged_with("1795514300.0") == []


async def test_basic_auth_is_sent(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """Every request carries the configured user and password as HTTP basic authentication."""
    await client.answer(CHANNEL)
    await client.hangup(CHANNEL)

    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert [r.authorization for r in fake_ari.requests] == [expected, expected]


HOSTILE_IDS = ["a/b", "../../asterisk/info", "x?reason=busy", "x#y", "%2F", "a b", "ü", "..x"]


@pytest.mark.parametrize("channel_id", HOSTILE_IDS)
async def test_ids_stay_in_their_path_segment(
    client: AriClient, fake_ari: FakeAsterisk, channel_id: str
) -> None:
    """An id with ``/``, ``..``, ``?`` or ``%`` reaches the server quoted, as one path segment."""
    await client.answer(channel_id)
    await client.hangup(channel_id)
    await client.play(channel_id, ["sound:beep"], language="en", playback_id=channel_id)
    await client.stop_playback(channel_id)

    paths = [r.raw_path.split("/") for r in fake_ari.requests]
    assert [p[:3] for p in paths] == [["", "ari", "channels"]] * 3 + [["", "ari", "playbacks"]]
    assert [len(p) for p in paths] == [5, 4, 6, 4]
    assert {unquote(p[3]) for p in paths} == {channel_id}
    assert unquote(paths[2][5]) == channel_id
    assert fake_ari.requests[1].query == {"reason": "normal"}


@pytest.mark.parametrize("channel_id", ["..", "."])
async def test_dot_ids_stay_in_their_path_segment(
    client: AriClient, fake_ari: FakeAsterisk, channel_id: str
) -> None:
    """An id of ``.`` or ``..`` cannot turn a channel request into one on another resource."""
    with contextlib.suppress(AriError):  # refusing such an id is as good as quoting it
        await client.answer(channel_id)
        await client.hangup(channel_id)

    for seen in fake_ari.requests:
        parts = seen.raw_path.split("/")
        assert parts[:3] == ["", "ari", "channels"], seen.raw_path
        assert unquote(parts[3]) == channel_id, seen.raw_path


CHANNEL_OPERATIONS: dict[str, tuple[str, str, Operation]] = {
    "answer": ("POST", f"/ari/channels/{CHANNEL}/answer", lambda c: c.answer(CHANNEL)),
    "play": (
        "POST",
        f"/ari/channels/{CHANNEL}/play/p1",
        lambda c: c.play(CHANNEL, ["sound:beep"], language="en", playback_id="p1"),
    ),
    "stop_playback": ("DELETE", "/ari/playbacks/p1", lambda c: c.stop_playback("p1")),
    "set_variables": (
        "POST",
        f"/ari/channels/{CHANNEL}/variable",
        lambda c: c.set_variables(CHANNEL, {"A": "1"}),
    ),
    "continue": (
        "POST",
        f"/ari/channels/{CHANNEL}/continue",
        lambda c: c.continue_in_dialplan(CHANNEL, "callrec-record"),
    ),
    "hangup": ("DELETE", f"/ari/channels/{CHANNEL}", lambda c: c.hangup(CHANNEL)),
    "get_channel": ("GET", f"/ari/channels/{CHANNEL}", lambda c: c.get_channel(CHANNEL)),
}


@pytest.mark.parametrize("status", [404, 409, 422])
@pytest.mark.parametrize("operation", sorted(CHANNEL_OPERATIONS))
async def test_gone_channel_or_playback(
    client: AriClient, fake_ari: FakeAsterisk, operation: str, status: int
) -> None:
    """404, 409 or 422 on a channel or playback means "gone": ``ChannelGoneError`` with status."""
    method, path, call = CHANNEL_OPERATIONS[operation]
    fake_ari.reply(method, path, Reply(status, json={"message": "Channel not found"}))

    with pytest.raises(ChannelGoneError) as caught:
        await call(client)

    assert caught.value.status == status


async def test_subscribe_to_gone_channel(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """Subscribing to a channel that hung up raises ``ChannelGoneError``, as ``AriPort`` says."""
    fake_ari.reply(
        "POST",
        f"/ari/applications/{APP}/subscription",
        Reply(422, json={"message": "Event source does not exist"}),
    )

    with pytest.raises(ChannelGoneError) as caught:
        await client.subscribe(CHANNEL)

    assert caught.value.status == 422


async def test_missing_application_is_not_a_gone_channel(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """404 on our application (a config error) is an ``AriError``, never "channel gone"."""
    fake_ari.reply("GET", f"/ari/applications/{APP}", Reply(404, json={"message": "not found"}))

    with pytest.raises(AriError) as caught:
        await client.app_channel_ids()

    assert not isinstance(caught.value, ChannelGoneError)
    assert caught.value.status == 404


@pytest.mark.parametrize("operation", sorted(CHANNEL_OPERATIONS))
async def test_server_error_names_the_request(
    client: AriClient, fake_ari: FakeAsterisk, operation: str
) -> None:
    """A 500 raises ``AriError`` naming the method, the path, the status and the body."""
    method, path, call = CHANNEL_OPERATIONS[operation]
    fake_ari.reply(method, path, Reply(500, text="Internal Server Error: oops"))

    with pytest.raises(AriError) as caught:
        await call(client)

    assert type(caught.value) is AriError
    assert caught.value.status == 500
    message = str(caught.value)
    assert f"{method} {path.removeprefix('/ari')}" in message
    assert "500" in message
    assert "oops" in message


async def test_error_body_is_cut_short(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """A huge error body does not end up whole in the message."""
    fake_ari.reply("POST", f"/ari/channels/{CHANNEL}/answer", Reply(400, text="x" * 100_000))

    with pytest.raises(AriError) as caught:
        await client.answer(CHANNEL)

    assert len(str(caught.value)) < 500


async def test_server_not_listening(session: aiohttp.ClientSession, dead_url: str) -> None:
    """Nothing listening raises ``AriUnavailableError`` naming the URL."""
    client = AriClient(session, ari_settings(dead_url))

    with pytest.raises(AriUnavailableError, match=dead_url):
        await client.answer(CHANNEL)


async def test_slow_server_times_out(
    session: aiohttp.ClientSession, fake_ari: FakeAsterisk
) -> None:
    """A server slower than ``request_timeout_seconds`` raises ``AriUnavailableError`` in time."""
    client = AriClient(session, ari_settings(fake_ari.url, request_timeout_seconds=0.3))
    fake_ari.reply("POST", f"/ari/channels/{CHANNEL}/answer", Reply(delay=5))

    started = time.monotonic()
    with pytest.raises(AriUnavailableError, match="did not answer POST"):
        await client.answer(CHANNEL)

    assert 0.25 <= time.monotonic() - started < 1.5


@pytest.mark.parametrize("body", ["<html>Service Unavailable</html>", "{", "OK"])
async def test_body_that_is_not_json(client: AriClient, fake_ari: FakeAsterisk, body: str) -> None:
    """A body that is not JSON where JSON is expected raises ``AriError`` saying so."""
    fake_ari.reply("GET", f"/ari/channels/{CHANNEL}", Reply(200, text=body))

    with pytest.raises(AriError, match="not JSON") as caught:
        await client.get_channel(CHANNEL)

    assert not isinstance(caught.value, AriUnavailableError)


@pytest.mark.parametrize(
    "application",
    [
        {"name": APP},
        {"channel_ids": "1795514341.6"},
        {"channel_ids": [1795514341.6]},
        {"channel_ids": None},
        [],
        "callrec",
    ],
    ids=["no-ids", "ids-text", "id-number", "ids-null", "list", "string"],
)
async def test_malformed_application(
    client: AriClient, fake_ari: FakeAsterisk, application: object
) -> None:
    """An application object without a list of text ids raises ``AriError`` naming the app."""
    fake_ari.reply("GET", f"/ari/applications/{APP}", Reply(200, json=application))

    with pytest.raises(AriError, match=f"malformed application '{APP}'"):
        await client.app_channel_ids()


async def test_empty_application_answer(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """An empty 200 where the application was expected raises ``AriError``."""
    fake_ari.reply("GET", f"/ari/applications/{APP}", Reply(200))

    with pytest.raises(AriError, match="malformed application"):
        await client.app_channel_ids()


@pytest.mark.parametrize(
    "channel",
    [{"name": "PJSIP/x"}, {"id": 7}, ["1795514341.6"], {"id": CHANNEL, "caller": "123"}],
    ids=["no-id", "id-number", "list", "caller-text"],
)
async def test_malformed_channel(
    client: AriClient, fake_ari: FakeAsterisk, channel: object
) -> None:
    """A channel object Asterisk should never send raises ``AriError`` naming the channel."""
    fake_ari.reply("GET", f"/ari/channels/{CHANNEL}", Reply(200, json=channel))

    with pytest.raises(AriError, match=f"malformed channel '{CHANNEL}'"):
        await client.get_channel(CHANNEL)


async def test_channel_with_out_of_range_creationtime(
    client: AriClient, fake_ari: FakeAsterisk
) -> None:
    """A creation time at the edge of the calendar gives a channel or ``AriError``, no crash."""
    channel = channel_json(CHANNEL) | {"creationtime": "0001-01-01T00:00:00.000+0100"}
    fake_ari.reply("GET", f"/ari/channels/{CHANNEL}", Reply(200, json=channel))

    with contextlib.suppress(AriError):
        assert (await client.get_channel(CHANNEL)).id == CHANNEL


CUT_SHORT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
    b'{"id": "1795514341.6", "name": "PJSIP/tr'
)
NOT_HTTP = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("response", [CUT_SHORT, NOT_HTTP], ids=["cut-short", "not-http"])
async def test_broken_response_is_an_ari_error(
    session: aiohttp.ClientSession, response: bytes
) -> None:
    """A body cut short or an answer that is not HTTP raises ``AriError``, not aiohttp's errors."""
    server = RawServer(response)
    await server.start()
    try:
        client = AriClient(session, ari_settings(server.url))
        with pytest.raises(AriError):
            await client.get_channel(CHANNEL)
    finally:
        await server.stop()


async def test_connection_closed_without_answer(session: aiohttp.ClientSession) -> None:
    """A server that closes the connection without a word raises ``AriUnavailableError``."""
    server = RawServer(b"")
    await server.start()
    try:
        client = AriClient(session, ari_settings(server.url))
        with pytest.raises(AriUnavailableError):
            await client.answer(CHANNEL)
    finally:
        await server.stop()


async def test_app_channel_ids_of_a_peer(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """Another instance's application is asked for by name; one Asterisk forgot has none."""
    fake_ari.reply("GET", "/ari/applications/callrec-b", Reply(200, json={"channel_ids": ["1.1"]}))
    fake_ari.reply("GET", "/ari/applications/callrec-c", Reply(404, json={"message": "no"}))

    assert await client.app_channel_ids("callrec-b") == ["1.1"]
    assert await client.app_channel_ids("callrec-c") == []


@pytest.mark.parametrize(("status", "won"), [(204, True), (409, False), (404, False)])
async def test_claim(client: AriClient, fake_ari: FakeAsterisk, status: int, won: bool) -> None:
    """``claim`` asks for the broadcast call in our application's name; 409 or 404 lost it."""
    fake_ari.reply("POST", "/ari/events/claim", Reply(status))

    assert await client.claim(CHANNEL) is won
    seen = only_request(fake_ari)
    assert seen.query == {"channelId": CHANNEL, "application": APP}


async def test_a_claim_asterisk_fails_is_an_error(client: AriClient, fake_ari: FakeAsterisk):
    """A 500 is not "another instance won": it is raised, with the status."""
    fake_ari.reply("POST", "/ari/events/claim", Reply(500, text="boom"))

    with pytest.raises(AriError) as caught:
        await client.claim(CHANNEL)
    assert caught.value.status == 500


async def test_global_variables(client: AriClient, fake_ari: FakeAsterisk) -> None:
    """A lease is written to and read from Asterisk's global variables."""
    fake_ari.reply("GET", "/ari/asterisk/variable", Reply(200, json={"value": "3f2a:17"}))

    await client.set_global("CALLREC_LEASE_callrec-a", "3f2a:18")
    assert await client.global_value("CALLREC_LEASE_callrec-b") == "3f2a:17"
    posted, read = fake_ari.requests
    assert (posted.method, posted.query) == (
        "POST",
        {"variable": "CALLREC_LEASE_callrec-a", "value": "3f2a:18"},
    )
    assert read.query == {"variable": "CALLREC_LEASE_callrec-b"}
