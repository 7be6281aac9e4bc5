"""Reading register lines strictly: well-formed lines give a call, anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.register.lines import BadLineError, latest_per_call, parse_line

START = "callrec-register/1|start|1796178112.7|1796178112.7|1796178112.038|48221234567|5551000"
END = (
    "callrec-register/1|end|1796178112.7|1796178112.7|1796178112.038|48221234567|5551000"
    "|1796178140.541|21250|PJSIP/reception-0000001f|ANSWER"
)
T0 = datetime(2026, 12, 2, 2, 21, 52, 38000, tzinfo=UTC)


def test_a_start_line_is_a_call_still_going_on():
    """Uniqueid, linkedid, start to the millisecond, caller and DID; no end, agent or answer."""
    call = parse_line(START + "\n")
    assert call.uniqueid == "1796178112.7"
    assert call.linkedid == "1796178112.7"
    assert call.started_at == T0
    assert call.caller == "48221234567"
    assert call.did == "5551000"
    assert (call.ended_at, call.answered_at, call.agent) == (None, None, None)


def test_an_end_line_gives_end_answer_and_agent():
    """The answer is the end minus Dial()'s talk time; the agent is the endpoint's name."""
    call = parse_line(END)
    assert call.ended_at == datetime(2026, 12, 2, 2, 22, 20, 541000, tzinfo=UTC)
    assert call.answered_at == call.ended_at - timedelta(milliseconds=21250)
    assert call.agent == "reception"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({8: "", 9: "", 10: "NOANSWER"}, (None, None)),  # nobody answered
        ({10: "BUSY"}, (None, "reception")),  # a peer without ANSWER: no answer time
        ({9: "PJSIP/agent.7@branch-0000002a"}, (True, "agent.7@branch")),
        ({9: "reception"}, (True, "reception")),  # not a channel name: kept as it is
        ({8: "99999999"}, (T0, "reception")),  # talk longer than the call: starts at the start
    ],
)
def test_end_lines_without_a_plain_answer(changes, expected):
    """Unanswered, busy, Local channels and odd peers read sensibly, never crash."""
    fields = END.split("|")
    for index, value in changes.items():
        fields[index] = value
    call = parse_line("|".join(fields))
    answered, agent = expected
    if answered is True:
        assert call.answered_at is not None
    else:
        assert call.answered_at == answered
    assert call.agent == agent


def test_empty_caller_and_s_as_did_are_allowed():
    """An anonymous caller (filtered to nothing) and a trunk that sent no number."""
    call = parse_line(START.replace("|48221234567|5551000", "||s"))
    assert call.caller is None
    assert call.did == "s"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "does not start with"),
        ("hello world", "does not start with"),
        ("callrec-register/2|start|1.1|1.1|1796178112|1|1", "does not start with"),
        (START.replace("|start|", "|middle|"), "neither start nor end"),
        (START + "|extra", "7 fields"),
        (END.rsplit("|", 1)[0], "11 fields"),
        (START.replace("1796178112.7|1796178112.7", "17961;78112.7|x"), "uniqueid"),
        (START.replace("|1796178112.7|1796178112.038", "|../../etc|1796178112.038"), "linkedid"),
        (START.replace("1796178112.038", "now"), "start field"),
        (START.replace("1796178112.038", "1796178112.0381234"), "start field"),
        (START.replace("1796178112.038", "4102444800"), "between 2000 and 2100"),
        (START.replace("48221234567", "4822 1234567"), "caller"),
        (START.replace("48221234567", "1" * 33), "caller"),
        (START.replace("48221234567", "48221234567\r\ncallrec-register/1"), "caller"),
        (START.replace("5551000", "555*1000"), "DID"),
        (END.replace("1796178140.541", "1796178000"), "end is before the start"),
        (END.replace("21250", "-5"), "answered ms"),
        (END.replace("PJSIP/reception-0000001f", "PJSIP/<script>"), "peer"),
        (END.replace("ANSWER", "answer"), "dial status"),
        (START + "|" + "9" * 2000, "longer than"),
    ],
)
def test_hostile_and_broken_lines_are_refused_with_the_field_at_fault(line, reason):
    """Whatever a caller or a torn write put there is refused as a whole line, never guessed."""
    with pytest.raises(BadLineError, match=reason):
        parse_line(line)


def test_the_end_line_wins_over_the_start_line_in_either_order():
    """One call per uniqueid: the complete line, whichever order the lines were read in."""
    start, end = parse_line(START), parse_line(END)
    other = parse_line(START.replace("1796178112.7|1796178112.7", "1796178113.8|1796178113.8"))
    assert list(latest_per_call([start, other, end]).values()) == [end, other]
    assert list(latest_per_call([end, start]).values()) == [end]


CALLEE = "0040211234567"
OUT_START = (
    "callrec-register/1|outbound-start|1796178112.8|1796178112.7|1796178112.038"
    f"|{CALLEE}|{CALLEE}\n"
)
OUT_END = (
    "callrec-register/1|outbound-end|1796178112.8|1796178112.7|1796178112.038"
    f"|{CALLEE}|{CALLEE}|1796178140.541||agent100|\n"
)


def test_an_outbound_end_line_names_the_callee_and_the_staff_phone():
    """The callee answered when the line was started; the staff phone is the agent."""
    call = parse_line(OUT_END)
    assert call.outbound is True
    assert call.caller == call.did == CALLEE
    assert call.answered_at == T0
    assert call.agent == "agent100"
    assert call.ended_at == datetime(2026, 12, 2, 2, 22, 20, 541000, tzinfo=UTC)


def test_an_unknown_event_is_refused():
    """Only start and end, with or without outbound-, are register events."""
    with pytest.raises(BadLineError, match="neither start nor end"):
        parse_line(OUT_START.replace("outbound-start", "outbound-middle"))


def test_a_node_named_uniqueid_is_read_whole():
    """With several nodes each Asterisk puts its systemname in front of its uniqueids; the
    register keeps the whole id, so two nodes' calls never share a row."""
    line = START.replace("1796178112.7", "pbx-b-1796178112.7")
    call = parse_line(line + "\n")
    assert (call.uniqueid, call.linkedid) == ("pbx-b-1796178112.7", "pbx-b-1796178112.7")
