"""The encryption tests' fixtures, for the sealing backlog metric (``test_readings.py``)."""

from __future__ import annotations

from tests.support.vault import master_key, vault  # noqa: F401 - fixtures
