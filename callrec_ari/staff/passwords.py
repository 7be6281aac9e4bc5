"""Staff passwords: argon2id hashes and the rules a new password must meet.

The hash string carries its own parameters, so hashes made with older settings still verify
and are replaced at the next successful sign-in (``needs_rehash``). The cost is part of the
settings (``[passwords]``): the default is argon2-cffi's, RFC 9106's low-memory profile;
only tests, where a hash costs nothing worth protecting, make it cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callrec_ari.config.settings import PasswordSettings
from callrec_ari.errors import InputError, TooManyAttemptsError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a limit keeps a huge form field from costing CPU
# Sign-in checks running at once (each costs the configured memory, 64 MiB by default), and
# as many again waiting; any more are refused at once instead of queueing for seconds.
HASHING_THREADS = 2
HASHING_WAITING = 2
BUSY_RETRY_SECONDS = 2
BUSY = "Too many sign-in attempts are being checked; try again in {seconds} seconds."


class Passwords:
    """Hashing and checking passwords at the configured argon2id cost."""

    def __init__(
        self,
        settings: PasswordSettings,
        *,
        threads: int = HASHING_THREADS,
        waiting: int = HASHING_WAITING,
    ) -> None:
        self.settings = settings
        self._hasher = PasswordHasher(
            time_cost=settings.time_cost,
            memory_cost=settings.memory_kib,
            parallelism=settings.parallelism,
        )
        # Its own threads: a flood of sign-ins must not take the threads that database,
        # file and audio work use (asyncio's default executor). Started on first use.
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._capacity = threads + waiting
        self._checking: set[str] = set()  # the clients with a check reserved

    @contextlib.contextmanager
    def reserved(self, client: str) -> Iterator[None]:
        """A place for one sign-in check of ``client`` (its address); ``TooManyAttemptsError``
        at once if all places are taken, or if that client has one already: one address
        flooding the form holds one place, never all of them."""
        if client in self._checking or len(self._checking) >= self._capacity:
            raise TooManyAttemptsError(
                BUSY.format(seconds=BUSY_RETRY_SECONDS), retry_after=BUSY_RETRY_SECONDS
            )
        self._checking.add(client)
        try:
            yield
        finally:
            self._checking.discard(client)

    async def check(self, stored_hash: str, password: str) -> bool:
        """``verify`` on the hashing threads, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self.verify, stored_hash, password)

    async def hash_async(self, password: str) -> str:
        """``hash`` on the hashing threads, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self.hash, password)

    async def unknown_hash(self) -> str:
        """``unknown_user_hash``, made on the hashing threads the first time: at the
        production cost a hash takes long enough to stall every request if made on the
        event loop."""
        if "unknown_user_hash" not in self.__dict__:
            made = await self.hash_async(secrets.token_urlsafe(16))
            self.__dict__.setdefault("unknown_user_hash", made)
        return self.unknown_user_hash

    def close(self) -> None:
        """Stop the hashing threads once the checks under way are done."""
        self._threads.shutdown(wait=True)

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password``, with its salt and parameters."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; False for a malformed hash, never
        raises."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's (or cannot be read)."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    @functools.cached_property
    def unknown_user_hash(self) -> str:
        """A hash of nothing anybody knows: an unknown username is checked against it, so
        it costs the same argon2 work as a known one. Made on first use."""
        return self.hash(secrets.token_urlsafe(16))


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
