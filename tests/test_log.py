"""Logging: callers' numbers are masked unless debugging asks otherwise."""

from __future__ import annotations

from callrec_ari.log import mask_number, mask_numbers


def test_numbers_keep_only_their_last_three_digits():
    """A masked number still tells two calls apart without revealing who called."""
    assert mask_number("48221234567") == "********567"
    assert mask_number("12") == "**"


def test_the_processor_masks_callers_but_not_our_own_numbers():
    """Callers' numbers are masked in every log line; the organisation's own DIDs are not."""
    line = mask_numbers(None, "info", {"caller": "48221234567", "dialled_number": "5551000"})
    assert line == {"caller": "********567", "dialled_number": "5551000"}
