"""Staff passwords: argon2id hashes and the rules a new password must meet.

The hash string carries its own parameters, so hashes made with older settings still verify
and are replaced at the next successful sign-in (``needs_rehash``).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callrec_ari.errors import InputError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a limit keeps a huge form field from costing CPU

# argon2-cffi's defaults: argon2id with RFC 9106's low-memory profile.
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, with its salt and parameters."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; False for a malformed hash, never raises."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (or cannot be read)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def check_password_policy(password: str, username: str) -> None:
    """Refuse (``InputError``) a password that is too short, too long, names the user or
    repeats one character."""
    if len(password) < MIN_LENGTH:
        raise InputError(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise InputError(f"The password must be at most {MAX_LENGTH} characters long.")
    if username and username.casefold() in password.casefold():
        raise InputError("The password must not contain the username.")
    if len(set(password)) == 1:
        raise InputError("The password must not be one character repeated.")
