"""Ids as typed: digits that fit a signed 64-bit column, nothing else."""

from __future__ import annotations

import pytest

from callrec_ari.ids import MAX_ID, fits, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), (" 42 ", 42), ("#12", 12), ("0", 0), (str(MAX_ID), MAX_ID)],
)
def test_ids_that_name_a_row(text, expected):
    """Digits, with spaces or a leading # as people type request numbers."""
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "  ",
        "99999999999999999999",  # the penetration test's id
        str(MAX_ID + 1),
        "1" * 10_000,
        "-1",
        "1e3",
        "0x10",
        "١٢",  # Arabic-Indic digits: str.isdigit() says yes, an id says no
        "²",
    ],
)
def test_anything_else_is_no_id(text):
    """Beyond 64 bits, signs, other scripts' digits: none of them can name a row."""
    assert parse_id(text) is None


def test_fits_is_the_column_range():
    """0 to 2**63 - 1, as PostgreSQL's BIGINT and SQLite's INTEGER hold."""
    assert fits(0)
    assert fits(2**63 - 1)
    assert not fits(2**63)
    assert not fits(-1)
