"""A reason counts the characters a reader sees, not invisible ones."""

from __future__ import annotations

import pytest

from callrec_ari.errors import InputError
from callrec_ari.reasons import is_blank, require_reason, visible_length

ZERO_WIDTH = "\u200b" * 10


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("complaint", 9),
        (ZERO_WIDTH, 0),  # the penetration test's reason
        ("\u200c\u200d\u2060\ufeff\u200e\u200f", 0),  # joiners, word joiner, BOM, marks
        ("\u00a0\u2003\u3000 \t\n\u2028\u2029", 0),  # spaces of every width, separators
        ("a\u0301\u0301\u0301", 1),  # combining accents add nothing visible
        ("\U000e0041\U000e0042", 0),  # tag characters (Cf)
        ("\ue000x", 1),  # a private-use point shows nothing a reader can check
        ("Żółć 2026/118", 12),
        ("申诉", 2),
    ],
)
def test_visible_length(text, visible):
    """Letters, digits and punctuation count; format, control, space and marks do not."""
    assert visible_length(text) == visible


def test_ten_zero_width_spaces_are_no_reason():
    """The attack: ten characters long, empty to a reader; refused with a clear sentence."""
    with pytest.raises(
        InputError, match=r"^The reason has no visible characters \(only spaces or marks\)\.$"
    ):
        require_reason(ZERO_WIDTH, "reason", minimum=10)
    assert is_blank(ZERO_WIDTH)


def test_padding_a_short_reason_does_not_make_it_long_enough():
    """'because' padded with zero-width spaces is still seven visible characters."""
    with pytest.raises(InputError, match="shorter than 10 visible characters"):
        require_reason("because" + ZERO_WIDTH, "reason", minimum=10)


def test_a_real_reason_comes_back_stripped():
    """What is stored is what was typed, without surrounding spaces."""
    assert require_reason("  quality check  ", "reason", minimum=10) == "quality check"
    assert not is_blank("x")
    assert is_blank(None)


def test_nothing_typed_is_empty():
    """An empty field keeps its plain sentence."""
    with pytest.raises(InputError, match=r"^The reason is empty\.$"):
        require_reason("   ", "reason")
