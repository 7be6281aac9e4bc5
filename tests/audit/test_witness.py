"""Witness records, pure: signed, read back, and compared with what the trail holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.audit.chain import GENESIS
from callrec_ari.audit.witness import (
    Kind,
    UnreadableLineError,
    Witness,
    check,
    genuine,
    parse_line,
    read_lines,
    sign,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(32)
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HASHES = {seq: f"{seq:064x}" for seq in range(1, 11)}


def witnessed(*seqs: int, key: bytes = KEY) -> list[str]:
    """Lines of a witness file, one per seq, a minute apart."""
    return [
        sign(key, seq=seq, hash_=HASHES[seq], at=AT + timedelta(minutes=n)).to_line()
        for n, seq in enumerate(seqs)
    ]


def checked(lines: list[str], *, head_seq: int | None = 10, stored=None):
    return check(
        KEY,
        read_lines(lines),
        source="w.jsonl",
        head_seq=head_seq,
        stored=HASHES if stored is None else stored,
    )


def texts(report) -> list[str]:
    return [problem.text for problem in report.problems]


def test_a_signed_record_reads_back_as_genuine():
    """A line written and read again is the same record, and its signature holds."""
    witness = sign(KEY, seq=3, hash_=HASHES[3], at=AT)
    again = parse_line(witness.to_line())
    assert again == witness
    assert genuine(KEY, again)


def test_any_changed_field_breaks_the_signature():
    """Seq, hash or time changed after signing: the record is no longer genuine."""
    witness = sign(KEY, seq=3, hash_=HASHES[3], at=AT)
    for changed in (
        Witness(seq=4, hash=witness.hash, at=witness.at, mac=witness.mac),
        Witness(seq=3, hash=HASHES[4], at=witness.at, mac=witness.mac),
        Witness(seq=3, hash=witness.hash, at=AT + timedelta(seconds=1), mac=witness.mac),
    ):
        assert not genuine(KEY, changed)
    assert not genuine(OTHER_KEY, witness)


def test_a_json_log_line_of_the_same_witness_is_read_too():
    """The service's JSON log line (event, level, timestamp besides) is a usable copy."""
    witness = sign(KEY, seq=5, hash_=HASHES[5], at=AT)
    log_line = json.dumps(
        {"event": "audit.witness", "level": "info", "file": "/x", **witness.to_json()}
    )
    assert parse_line(log_line) == witness


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "it is not JSON"),
        ("[1, 2]", "it is not a JSON object"),
        ('{"seq": "5"}', "its seq is not a whole number"),
        ('{"seq": 5, "hash": "zz", "mac": "zz"}', "its hash or mac is not 64 hex digits"),
        (
            json.dumps({"seq": 5, "hash": "a" * 64, "mac": "b" * 64, "at": "yesterday"}),
            "its time is not an ISO 8601 time",
        ),
        (
            json.dumps({"seq": 5, "hash": "a" * 64, "mac": "b" * 64, "at": "2026-12-01T12:00"}),
            "its time has no time zone",
        ),
    ],
)
def test_a_line_that_is_no_record_says_why(text: str, why: str):
    """Each malformed line is refused with the reason."""
    with pytest.raises(UnreadableLineError, match=why):
        parse_line(text)


def test_witnesses_matching_the_trail_are_intact():
    """Every witnessed entry still carries its hash: no problem; the newest is reported."""
    report = checked(witnessed(2, 5, 9))
    assert report.intact
    assert (report.records, report.newest.seq) == (3, 9)


def test_a_witness_of_the_empty_trail_matches_genesis():
    """Seq 0 has no row: it matches when it carries the genesis hash."""
    line = sign(KEY, seq=0, hash_=GENESIS, at=AT).to_line()
    assert checked([line], head_seq=0, stored={}).intact


def test_a_rewritten_tail_names_the_first_witnessed_entry_that_no_longer_matches():
    """Entries from 6 on rewritten: 5 still matches, 7 and 9 do not; 7 is named, once."""
    stored = {**HASHES, **{seq: f"{seq + 100:064x}" for seq in range(6, 11)}}
    report = checked(witnessed(2, 5, 7, 9), stored=stored)
    assert [(p.seq, p.kind) for p in report.problems] == [(7, Kind.REWRITTEN)]
    assert texts(report) == [
        "Entry 7, witnessed at 2026-12-01 12:02:00Z (line 3 of w.jsonl), no longer carries the "
        "witnessed hash: the trail was rewritten after entry 5, the last witnessed entry that "
        "still matches."
    ]


def test_a_rewrite_before_the_first_witness_says_so():
    """No witnessed entry still matches: the rewrite may go back to the first entry."""
    report = checked(witnessed(4), stored={4: "f" * 64})
    assert texts(report) == [
        "Entry 4, witnessed at 2026-12-01 12:00:00Z (line 1 of w.jsonl), no longer carries the "
        "witnessed hash: the trail was rewritten from its first entry on."
    ]


def test_a_witnessed_entry_gone_from_the_middle_is_named():
    """A witnessed entry with no row left is named as gone."""
    stored = {seq: h for seq, h in HASHES.items() if seq != 5}
    assert texts(checked(witnessed(3, 5), stored=stored)) == [
        "Entry 5, witnessed at 2026-12-01 12:01:00Z (line 2 of w.jsonl), is gone: the trail was "
        "rewritten after entry 3, the last witnessed entry that still matches."
    ]


def test_a_head_behind_a_witnessed_entry_is_a_cut_back_trail():
    """Head at 6, entry 9 witnessed: the newest witness beyond the head is named."""
    stored = {seq: h for seq, h in HASHES.items() if seq <= 6}
    report = checked(witnessed(3, 8, 9), head_seq=6, stored=stored)
    assert [(p.seq, p.kind) for p in report.problems] == [(9, Kind.TRUNCATED)]
    assert texts(report) == [
        "The trail was cut back: it ends at entry 6, but entry 9 was witnessed at "
        "2026-12-01 12:02:00Z (line 3 of w.jsonl)."
    ]


def test_a_forged_line_is_named_and_not_trusted():
    """A line signed with another key is forged: named, and its claim is not checked."""
    lines = [*witnessed(2), *witnessed(5, key=OTHER_KEY), *witnessed(9)]
    report = checked(lines)
    assert texts(report) == [
        "Line 2 of w.jsonl is forged: its signature for entry 5 was not made with the witness key."
    ]
    assert report.records == 2


def test_an_unreadable_line_is_named_and_blank_lines_are_skipped():
    """A damaged line is named by its number; blank lines are no problem."""
    lines = [*witnessed(2), "", '{"seq": 3', *witnessed(9)]
    assert texts(checked(lines)) == ["Line 3 of w.jsonl is not a witness record: it is not JSON."]


def test_without_a_head_row_the_newest_entry_bounds_the_trail():
    """The head row gone: witnesses beyond the newest entry still show a cut-back trail."""
    stored = {seq: h for seq, h in HASHES.items() if seq <= 4}
    report = checked(witnessed(7), head_seq=None, stored=stored)
    assert [(p.seq, p.kind) for p in report.problems] == [(7, Kind.TRUNCATED)]
