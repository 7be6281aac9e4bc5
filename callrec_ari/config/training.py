"""``[training]``: where the anonymised training copies live and how long they are kept."""

from __future__ import annotations

from pathlib import Path

from callrec_ari.config.settings import RecordingSettings, TrainingSettings
from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError

TRAINING_FOLDER = "training"  # the default library, inside the recordings folder
MAX_MONTHS = 120


def parse_training(table: Table, recording: RecordingSettings, base_dir: Path) -> TrainingSettings:
    """The library's folder (relative: from the config file's folder; default ``training``
    inside the recordings folder, which the orphan sweep never enters) and its months."""
    folder = table.get("dir", str, "")
    months = table.get("months", int, 24)
    if not 1 <= months <= MAX_MONTHS:
        raise ConfigError(f"Config key {table.key('months')} must be 1 to {MAX_MONTHS}.")
    library = base_dir / folder if folder else recording.service_dir / TRAINING_FOLDER
    if library.resolve() == recording.service_dir.resolve():
        raise ConfigError(
            f"Config key {table.key('dir')} must not be the recordings folder itself: "
            "training copies need a folder of their own."
        )
    return TrainingSettings(dir=library, months=months)
