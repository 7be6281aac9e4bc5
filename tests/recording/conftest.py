"""The encryption tests' fixtures, for the sealing tests here (``test_seal.py``)."""

from __future__ import annotations

from tests.support.vault import master_key, vault  # noqa: F401 - fixtures
