"""The spans a supervisor types: read in seconds or minutes, checked, sorted and merged."""

from __future__ import annotations

import pytest

from callrec_ari.errors import InputError
from callrec_ari.training.spans import MAX_SPANS, Span, merged, parse_spans


def test_seconds_and_minutes_are_read_and_sorted():
    """``40-43.2, 12.5-15`` and ``1:05-1:10`` come back in order, in seconds."""
    spans = parse_spans("40-43.2, 12.5-15;1:05-1:10.5", duration=120)
    assert spans == (Span(12.5, 15.0), Span(40.0, 43.2), Span(65.0, 70.5))


def test_nothing_typed_silences_nothing():
    """An empty or blank field is no span at all."""
    assert parse_spans("", duration=10) == ()
    assert parse_spans("  \n ", duration=10) == ()


def test_overlapping_and_touching_spans_are_merged():
    """Two spans sharing a second, or one inside another, become one span."""
    assert parse_spans("10-20 15-25 30-31 31-32 35-40 36-37", duration=60) == (
        Span(10.0, 25.0),
        Span(30.0, 32.0),
        Span(35.0, 40.0),
    )


def test_merging_keeps_apart_what_is_apart():
    """Spans with a gap between them stay two."""
    assert merged([Span(5, 6), Span(1, 2)]) == (Span(1, 2), Span(5, 6))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.5", r"'12\.5' is not a span to silence like 12\.5-15"),
        ("a-b", r"'a-b' is not a span"),
        ("-3-4", r"is not a span"),
        ("15-12.5", r"'15-12\.5' does not end after it starts"),
        ("5-5", r"does not end after it starts"),
        ("50-61", r"'50-61' ends after the recording, which lasts 60\.0 s"),
        ("1:70-1:80", r"has 70 seconds in a minute"),
    ],
)
def test_a_bad_span_is_named_in_one_sentence(text, message):
    """Each refusal names the span at fault."""
    with pytest.raises(InputError, match=message):
        parse_spans(text, duration=60)


def test_too_many_spans_are_refused():
    """A sane maximum: a call needing more silence is no training material."""
    text = ",".join(f"{n}-{n}.5" for n in range(MAX_SPANS + 1))
    with pytest.raises(InputError, match=f"At most {MAX_SPANS} spans"):
        parse_spans(text, duration=1000)


def test_a_very_long_text_is_refused_before_it_is_read():
    """Thousands of characters of spans are refused as a whole."""
    with pytest.raises(InputError, match="longer than 2000 characters"):
        parse_spans("1-2," * 600, duration=1000)


def test_a_span_reads_back_as_typed():
    """Messages show a span the way it was typed in seconds."""
    assert Span(12.5, 15.0).text == "12.5-15"
