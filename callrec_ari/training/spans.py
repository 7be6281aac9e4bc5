"""The spans a supervisor marks for silence: parsed, checked against the recording, merged.

Pure: no I/O. A span is two times with a dash, ``12.5-15`` (seconds) or ``1:05-1:10.5``
(minutes and seconds, as a player shows them); several are separated by commas, semicolons,
spaces or new lines. Each must end after it starts and within the recording; spans that
overlap or touch are merged into one, and the result is sorted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from callrec_ari.errors import InputError

MAX_SPANS = 50  # a call with more names and numbers in it is no training material
MAX_TEXT = 2000  # characters of the typed spans
_SEPARATORS = re.compile(r"[\s,;]+")
_TIME = r"(?:\d{1,4}:)?\d{1,5}(?:\.\d{1,3})?"
_SPAN = re.compile(rf"({_TIME})-({_TIME})")
_EXAMPLE = "like 12.5-15 (seconds) or 1:05-1:10"


@dataclass(frozen=True, order=True)
class Span:
    """A stretch of the recording to silence, in seconds from its start."""

    start: float
    end: float

    @property
    def text(self) -> str:
        """``12.5-15``: as typed in seconds, for messages."""
        return f"{_number(self.start)}-{_number(self.end)}"


def parse_spans(text: str, *, duration: float) -> tuple[Span, ...]:
    """The spans typed in ``text``, within a recording of ``duration`` seconds: sorted, and
    merged where they overlap or touch. Empty text gives none.

    ``InputError`` naming the span at fault: not a span, ending before it starts or after the
    recording, or more than ``MAX_SPANS``.
    """
    if len(text) > MAX_TEXT:
        raise InputError(f"The spans to silence are longer than {MAX_TEXT} characters.")
    items = [item for item in _SEPARATORS.split(text.strip()) if item]
    if len(items) > MAX_SPANS:
        raise InputError(f"At most {MAX_SPANS} spans can be silenced, not {len(items)}.")
    return merged(_span(item, duration) for item in items)


def merged(spans: Iterable[Span]) -> tuple[Span, ...]:
    """``spans`` sorted, with those that overlap or touch joined into one."""
    result: list[Span] = []
    for span in sorted(spans):
        if result and span.start <= result[-1].end:
            result[-1] = Span(result[-1].start, max(result[-1].end, span.end))
        else:
            result.append(span)
    return tuple(result)


def _span(item: str, duration: float) -> Span:
    found = _SPAN.fullmatch(item)
    if found is None:
        raise InputError(f"{item[:40]!r} is not a span to silence {_EXAMPLE}.")
    start, end = (_seconds(part, item) for part in found.groups())
    if end <= start:
        raise InputError(f"The span {item!r} does not end after it starts.")
    if end > duration:
        raise InputError(
            f"The span {item!r} ends after the recording, which lasts {duration:.1f} s."
        )
    return Span(start, end)


def _seconds(text: str, item: str) -> float:
    minutes, _, seconds = text.rpartition(":")
    value = float(seconds)
    if minutes:
        if value >= 60:
            raise InputError(f"The span {item!r} has {seconds} seconds in a minute.")
        value += 60 * int(minutes)
    return value


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
