"""One line of the register, read strictly: it is written by Asterisk from caller data.

Format 1, fields separated by ``|`` (``dialplan/extensions_callrec.conf``, [callrec-register])::

    callrec-register/1|start|<uniqueid>|<linkedid>|<start>|<caller>|<did>
    callrec-register/1|end|<uniqueid>|<linkedid>|<start>|<caller>|<did>|<end>|<answered ms>
                      |<peer>|<dialstatus>                     (one line, broken here to fit)

``outbound-start`` and ``outbound-end`` lines have the same fields for the callee of a staff
call (``callrec-outbound-consent``): ``<caller>`` and ``<did>`` are both the callee's number,
``<answered ms>`` and ``<dialstatus>`` are empty (the callee had answered already) and
``<peer>`` is the staff phone's endpoint.

Times are Unix seconds with up to six decimals; ``<answered ms>`` is Dial()'s
ANSWEREDTIME_MS (talk time), ``<peer>`` its DIALEDPEERNAME (``PJSIP/reception-0000001f``).
The dialplan already cuts caller data to safe characters; anything that still does not fit
field by field is refused here as a whole line (``BadLine``), never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callrec_ari.names import UNIQUEID

FORMAT = "callrec-register/1"
MAX_LINE = 1024  # a well-formed line is under 300 characters

_TIME = re.compile(r"[0-9]{9,11}(\.[0-9]{1,6})?")
_CALLER = re.compile(r"\+?[0-9]{0,32}")
_DID = re.compile(r"(\+?[0-9]{1,32}|s)?")
_MS = re.compile(r"[0-9]{0,12}")
_PEER = re.compile(r"[0-9A-Za-z/_.@-]{0,128}")
_CHANNEL_NAME = re.compile(r"[^/]+/(?P<agent>.+)-[0-9a-f]+(;[0-9])?")
_STATUS = re.compile(r"[A-Z]{0,16}")
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class BadLineError(ValueError):
    """A register line that does not follow the format; the message says which field."""


@dataclass(frozen=True, kw_only=True)
class RegisterCall:
    """What one register line says about a call."""

    uniqueid: str
    linkedid: str
    started_at: datetime
    caller: str | None
    did: str
    ended_at: datetime | None  # None on a start line: the call was still going on
    answered_at: datetime | None
    agent: str | None
    outbound: bool = False  # the callee of a staff call, not an inbound caller


def split_line(text: str) -> tuple[list[str], str]:
    """A register line's fields and its event (the second field, "" if none);
    ``BadLineError`` if it is too long or not in this format."""
    if len(text) > MAX_LINE:
        raise BadLineError(f"the line is longer than {MAX_LINE} characters")
    fields = text.rstrip("\r\n").split("|")
    if fields[0] != FORMAT:
        raise BadLineError(f"the line does not start with {FORMAT}")
    return fields, fields[1] if len(fields) > 1 else ""


def parse_line(text: str) -> RegisterCall:
    """The call one line describes; ``BadLineError`` naming the first field at fault."""
    fields, event = split_line(text)
    outbound = event.startswith("outbound-")
    expected = {"start": 7, "end": 11}.get(event.removeprefix("outbound-"))
    if expected is None:
        raise BadLineError("the event is neither start nor end")
    if len(fields) != expected:
        raise BadLineError(f"a {event} line has {expected} fields, this one {len(fields)}")
    uniqueid = field(fields, 2, UNIQUEID, "uniqueid")
    linkedid = field(fields, 3, UNIQUEID, "linkedid")
    started_at = timestamp(field(fields, 4, _TIME, "start"), "start")
    caller = field(fields, 5, _CALLER, "caller") or None
    did = field(fields, 6, _DID, "DID")
    ended_at = answered_at = agent = None
    if outbound:
        answered_at = started_at  # the callee answered before the consent step began
    if event.endswith("end"):
        ended_at = timestamp(field(fields, 7, _TIME, "end"), "end")
        if ended_at < started_at:
            raise BadLineError("the end is before the start")
        talk_ms = field(fields, 8, _MS, "answered ms")
        peer = field(fields, 9, _PEER, "peer")
        status = field(fields, 10, _STATUS, "dial status")
        if status == "ANSWER" and talk_ms:
            answered_at = max(started_at, ended_at - timedelta(milliseconds=int(talk_ms)))
        if peer:
            match = _CHANNEL_NAME.fullmatch(peer)
            agent = match.group("agent") if match else peer
    return RegisterCall(
        uniqueid=uniqueid,
        linkedid=linkedid,
        started_at=started_at,
        caller=caller,
        did=did,
        ended_at=ended_at,
        answered_at=answered_at,
        agent=agent,
        outbound=outbound,
    )


def latest_per_call(calls: Iterable[RegisterCall]) -> dict[str, RegisterCall]:
    """One entry per call, in first-seen order: an end line wins over a start line, and of
    two lines of the same kind the later one."""
    result: dict[str, RegisterCall] = {}
    for call in calls:
        known = result.get(call.uniqueid)
        if known is None or call.ended_at is not None or known.ended_at is None:
            result[call.uniqueid] = call
    return result


def field(fields: list[str], index: int, pattern: re.Pattern[str], name: str) -> str:
    """``fields[index]`` if it matches ``pattern`` in full; ``BadLineError`` naming it if not."""
    value = fields[index]
    if not pattern.fullmatch(value):
        raise BadLineError(f"the {name} field is malformed")
    return value


def timestamp(value: str, name: str) -> datetime:
    """A register time (Unix seconds, up to six decimals) as UTC, between 2000 and 2100."""
    seconds, _, fraction = value.partition(".")
    # Exact to the microsecond, which a float of the whole value would not be.
    moment = datetime.fromtimestamp(int(seconds), UTC) + timedelta(
        microseconds=int(fraction.ljust(6, "0"))
    )
    if not _EARLIEST <= moment < _LATEST:
        raise BadLineError(f"the {name} time is not between 2000 and 2100")
    return moment
