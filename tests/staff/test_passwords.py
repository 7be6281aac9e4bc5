"""Password hashing at the configured cost, and the policy for new passwords."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from callrec_ari.config import PasswordSettings, parse
from callrec_ari.errors import ConfigError, InputError
from callrec_ari.staff.passwords import Passwords, check_password_policy
from tests.config.test_parse import EXAMPLE, example
from tests.support.passwords import CHEAP, CHEAP_PASSWORDS

EXAMPLE_DIR = EXAMPLE.parent

GOOD = "correct horse battery"


def test_production_keeps_argon2s_own_cost():
    """Without a [passwords] table the cost is argon2-cffi's default, RFC 9106 low memory."""
    data = example()
    data.pop("passwords", None)
    settings = parse(data, {}, base_dir=EXAMPLE_DIR)
    assert settings.passwords == PasswordSettings()
    default = PasswordHasher()
    assert (default.time_cost, default.memory_cost, default.parallelism) == (3, 65536, 4)
    assert RFC_9106_LOW_MEMORY.time_cost == settings.passwords.time_cost
    assert RFC_9106_LOW_MEMORY.memory_cost == settings.passwords.memory_kib
    assert RFC_9106_LOW_MEMORY.parallelism == settings.passwords.parallelism
    assert parse(example(), {}, base_dir=EXAMPLE_DIR).passwords == PasswordSettings()
    stored = Passwords(settings.passwords).hash(GOOD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_cost_is_read_from_the_config_and_checked():
    """A cheaper or dearer cost is taken as given; a nonsensical one is named."""
    data = example()
    data["passwords"] = {"time_cost": 2, "memory_kib": 16, "parallelism": 2}
    assert parse(data, {}, base_dir=EXAMPLE_DIR).passwords == PasswordSettings(
        time_cost=2, memory_kib=16, parallelism=2
    )
    data["passwords"] = {"time_cost": 0}
    with pytest.raises(ConfigError, match=r"passwords\.time_cost must be at least 1"):
        parse(data, {}, base_dir=EXAMPLE_DIR)
    data["passwords"] = {"memory_kib": 8, "parallelism": 4}
    with pytest.raises(ConfigError, match=r"passwords\.memory_kib must be at least 8 KiB per lane"):
        parse(data, {}, base_dir=EXAMPLE_DIR)


def test_a_hash_verifies_its_password_only():
    """The argon2id hash takes its own password and refuses any other."""
    stored = CHEAP_PASSWORDS.hash(GOOD)
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert GOOD not in stored
    assert CHEAP_PASSWORDS.verify(stored, GOOD)
    assert not CHEAP_PASSWORDS.verify(stored, GOOD + "!")


def test_the_same_password_hashes_differently_each_time():
    """Each hash has its own salt."""
    assert CHEAP_PASSWORDS.hash(GOOD) != CHEAP_PASSWORDS.hash(GOOD)


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$v=19$broken", "$2b$12$bcrypt"])
def test_a_malformed_hash_is_a_mismatch_not_a_crash(stored):
    """A damaged or foreign hash never signs anyone in and never raises."""
    assert CHEAP_PASSWORDS.verify(stored, GOOD) is False


def test_hashes_made_with_other_parameters_need_rehashing():
    """A hash with older parameters is flagged (and still verifies); today's is not."""
    old = Passwords(PasswordSettings(time_cost=2, memory_kib=16, parallelism=1)).hash(GOOD)
    assert CHEAP_PASSWORDS.verify(old, GOOD)
    assert CHEAP_PASSWORDS.needs_rehash(old)
    assert not CHEAP_PASSWORDS.needs_rehash(CHEAP_PASSWORDS.hash(GOOD))
    assert CHEAP_PASSWORDS.needs_rehash("not a hash")


def test_unknown_users_cost_one_hash_made_once():
    """The hash an unknown username is checked against is made once per configured cost."""
    passwords = Passwords(CHEAP)
    first = passwords.unknown_user_hash
    assert first is passwords.unknown_user_hash
    assert not passwords.verify(first, GOOD)


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
