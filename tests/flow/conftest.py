"""Fixtures for the consent flow: real settings built from the example configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import Settings, parse

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example_settings(tmp_path: Path, **consent: Any) -> Settings:
    """The example config with recordings under ``tmp_path`` and consent options overridden."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "rec")}
    data["consent"].update(consent)
    return parse(data, {}, base_dir=tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with decline key 9 connecting unrecorded (the example's defaults)."""
    return example_settings(tmp_path)
