"""The one reading of dates and moments people type, on the command line and on the web."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callrec_ari.dates import parse_day_or_moment, parse_optional
from callrec_ari.errors import InputError


def test_a_bare_date_as_a_lower_bound_is_the_start_of_that_day():
    """``--from 2026-11-30`` / ``since=2026-11-30``: midnight UTC, the day included."""
    assert parse_day_or_moment("2026-11-30", field="since") == datetime(2026, 11, 30, tzinfo=UTC)


def test_a_bare_date_as_an_upper_bound_takes_in_the_whole_day():
    """``--until 2026-11-30``: the (exclusive) bound is the next midnight, so 23:00 on the
    30th is inside and midnight of the 1st is not."""
    bound = parse_day_or_moment("2026-11-30", field="until", end_of_day=True)
    assert bound == datetime(2026, 12, 1, tzinfo=UTC)
    assert datetime(2026, 11, 30, 23, 0, tzinfo=UTC) < bound
    assert not datetime(2026, 12, 1, tzinfo=UTC) < bound


@pytest.mark.parametrize("end_of_day", [False, True])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T14:00", datetime(2026, 11, 30, 14, tzinfo=UTC)),
        ("2026-11-30T14:00:00Z", datetime(2026, 11, 30, 14, tzinfo=UTC)),
        ("2026-11-30T15:00:00+01:00", datetime(2026, 11, 30, 14, tzinfo=UTC)),
        ("2026-11-30 14:00", datetime(2026, 11, 30, 14, tzinfo=UTC)),
    ],
)
def test_a_moment_with_a_time_is_taken_as_given(text, expected, end_of_day):
    """A time is exact whichever bound it is; without a zone it is UTC; always aware, in UTC."""
    moment = parse_day_or_moment(text, field="until", end_of_day=end_of_day)
    assert moment == expected
    assert moment.utcoffset() is not None
    assert moment.tzinfo is UTC


def test_blanks_around_the_text_do_not_matter():
    """What a form field or a pasted value carries around it is ignored."""
    assert parse_day_or_moment(" 2026-11-30\n", field="from") == datetime(2026, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "  ", "yesterday", "30.11.2026", "2026-13-01", "2026-11-31"])
def test_anything_else_is_one_sentence_naming_the_field(text):
    """Not a date, an impossible date, or nothing at all: the field and the text are named."""
    with pytest.raises(InputError, match=rf"^--until {text!r} is not an ISO 8601 date or time"):
        parse_day_or_moment(text, field="--until")


def test_a_very_long_text_is_cut_in_the_message():
    """Whatever was pasted, the sentence stays one line of reasonable length."""
    with pytest.raises(InputError) as refused:
        parse_day_or_moment("x" * 5000, field="since")
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize("text", [None, "", "   "])
def test_an_optional_bound_left_empty_is_no_bound(text):
    """A filter or option not given is ``None``, never an error."""
    assert parse_optional(text, field="since") is None


def test_an_optional_bound_given_follows_the_same_rule():
    """``parse_optional`` reads a given value exactly as ``parse_day_or_moment``."""
    assert parse_optional("2026-11-30", field="until", end_of_day=True) == datetime(
        2026, 12, 1, tzinfo=UTC
    )
