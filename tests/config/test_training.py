"""``[training]``: the library's folder and months, with defaults and one sentence per bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import parse
from callrec_ari.config.parse import with_absolute_paths
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example(**training: Any) -> dict[str, Any]:
    """The example config, with ``training`` as its [training] table (none if empty)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"]["service_dir"] = "/srv/recordings"
    data.pop("training", None)
    if training:
        data["training"] = training
    return data


def test_the_library_defaults_to_a_folder_inside_the_recordings():
    """No [training]: ``<service_dir>/training``, kept 24 months."""
    settings = parse(example(), {}, base_dir=Path("/etc/callrec"))
    assert settings.training.dir == Path("/srv/recordings/training")
    assert settings.training.months == 24


def test_a_relative_folder_is_taken_from_the_config_file_s_folder(tmp_path: Path):
    """As every other path; and made absolute, it means the same wherever it is written."""
    data = example(dir="var/training", months=12)
    settings = parse(data, {}, base_dir=tmp_path)
    assert settings.training.dir == tmp_path / "var" / "training"
    assert settings.training.months == 12
    moved = parse(with_absolute_paths(data, tmp_path), {}, base_dir=tmp_path / "elsewhere")
    assert moved.training == settings.training


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"months": 0}, "training.months must be 1 to 120"),
        ({"months": 121}, "training.months must be 1 to 120"),
        ({"months": "24"}, "training.months must be a int"),
        ({"dir": 5}, "training.dir must be a str"),
        ({"dir": "/srv/recordings"}, "training.dir must not be the recordings folder itself"),
    ],
)
def test_each_bad_key_is_named(training, message):
    """One sentence naming the key."""
    with pytest.raises(ConfigError, match=message):
        parse(example(**training), {}, base_dir=Path("/etc/callrec"))
