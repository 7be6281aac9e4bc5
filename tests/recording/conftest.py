"""The encryption tests' fixtures, for the sealing tests here (``test_seal.py``)."""

from __future__ import annotations

from tests.crypto.conftest import master_key, vault  # noqa: F401 - fixtures
from tests.rights.conftest import recordings, store  # noqa: F401 - fixtures
