"""Cheap argon2 for tests: their hashes protect nothing, and the full cost made the suite slow.

Production keeps argon2-cffi's cost (``PasswordSettings()``); ``tests/staff/test_passwords.py``
checks that default.
"""

from __future__ import annotations

from callrec_ari.config import PasswordSettings
from callrec_ari.staff.passwords import Passwords

CHEAP_TABLE = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}  # as a [passwords] table
CHEAP = PasswordSettings(**CHEAP_TABLE)
CHEAP_PASSWORDS = Passwords(CHEAP)
