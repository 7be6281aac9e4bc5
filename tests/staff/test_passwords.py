"""Password hashing and the policy for new passwords."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from callrec_ari.errors import InputError
from callrec_ari.staff.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery"


def test_a_hash_verifies_its_password_only():
    """The argon2id hash takes its own password and refuses any other."""
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD + "!")


def test_the_same_password_hashes_differently_each_time():
    """Each hash has its own salt."""
    assert hash_password(GOOD) != hash_password(GOOD)


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$v=19$broken", "$2b$12$bcrypt"])
def test_a_malformed_hash_is_a_mismatch_not_a_crash(stored):
    """A damaged or foreign hash never signs anyone in and never raises."""
    assert verify_password(stored, GOOD) is False


def test_hashes_made_with_weaker_parameters_need_rehashing():
    """A hash with older, cheaper parameters is flagged; today's is not."""
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert verify_password(weak, GOOD)
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password(GOOD))
    assert needs_rehash("not a hash")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "at least 12 characters"),
        ("x" * 1024 + "y", "at most 1024 characters"),
        ("my-name-is-ANNA.k", "must not contain the username"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
    ],
)
def test_the_policy_refuses_weak_passwords_in_one_sentence(password, message):
    """Too short, too long, containing the username (any case) or one repeated character."""
    with pytest.raises(InputError, match=message) as refused:
        check_password_policy(password, "anna.k")
    assert str(refused.value).count(".") == 1
    assert password not in str(refused.value)


def test_the_policy_accepts_a_passphrase_at_the_limits():
    """Exactly 12 and exactly 1024 characters are fine, as are spaces and any script."""
    check_password_policy("ab" * 6, "anna")
    check_password_policy("żółw " * 204 + "abcd", "anna")
    check_password_policy(GOOD, "anna")
