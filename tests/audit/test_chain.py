"""The hash chain's pure core: what the hash covers and the canonical JSON."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from callrec_ari.audit.chain import GENESIS, Link, canonical_json, link_hash

LINK = Link(
    seq=7,
    at=datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC),
    actor="anna",
    action="play",
    target="1764000000.42",
    detail='{"reason":"quality check"}',
    client="192.0.2.7",
    prev_hash="a" * 64,
)


def test_the_hash_is_sha256_hex():
    """A hash is 64 lowercase hex digits, like the genesis hash it follows."""
    value = link_hash(LINK)
    assert len(value) == len(GENESIS) == 64
    assert set(value) <= set("0123456789abcdef")


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 8},
        {"at": LINK.at + timedelta(microseconds=1)},
        {"actor": "ann"},
        {"action": "download"},
        {"target": None},
        {"target": "1764000000.43"},
        {"detail": '{"reason":"quality check!"}'},
        {"client": None},
        {"client": "192.0.2.8"},
        {"prev_hash": "b" * 64},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_any_field_changes_the_hash(change):
    """Every field is covered: no edit leaves the hash as it was."""
    assert link_hash(dataclasses.replace(LINK, **change)) != link_hash(LINK)


def test_the_same_instant_in_another_zone_hashes_alike():
    """The time is hashed in UTC, so a database handing it back in another zone agrees."""
    warsaw = LINK.at.astimezone(timezone(timedelta(hours=1)))
    assert link_hash(dataclasses.replace(LINK, at=warsaw)) == link_hash(LINK)


def test_canonical_json_ignores_key_order():
    """The same mapping in any key order gives one text: sorted, compact, UTF-8 kept."""
    first = canonical_json({"b": 1, "a": {"y": [1, 2], "x": "żółw"}})
    second = canonical_json({"a": {"x": "żółw", "y": [1, 2]}, "b": 1})
    assert first == second == '{"a":{"x":"żółw","y":[1,2]},"b":1}'


def test_no_field_can_bleed_into_another():
    """Moving text between neighbouring fields changes the hash (fields are JSON, not joined)."""
    moved = dataclasses.replace(LINK, actor="annap", action="lay")
    assert link_hash(moved) != link_hash(LINK)
