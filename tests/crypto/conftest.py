"""Fixtures for the encryption tests (``tests/support/vault.py``)."""

from __future__ import annotations

from tests.support.vault import master_key, vault  # noqa: F401 - fixtures
