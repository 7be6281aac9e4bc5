"""Where prompt files live, shared by the build and the install step.

::

    prompts/<lang>/<name>.txt               text, spoken by espeak-ng
    prompts/<lang>/studio/<name>.<ext>      a studio recording, which wins over the text
    prompts/<lang>/<name>.wav               the built telephone WAV (committed to git)
    <sounds>/<lang>/callrec/<name>.wav      the installed copy: sound:callrec/<name> in <lang>
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from callrec_ari.errors import PromptError
from callrec_ari.names import LANGUAGE, SOUND_NAME

STUDIO_FOLDER = "studio"
SOUNDS_FOLDER = "callrec"


def language_folders(root: Path, languages: Iterable[str] | None) -> list[Path]:
    """The language folders under ``root``: the ones named, or every one there is."""
    if not root.is_dir():
        raise PromptError(f"Prompt folder {root} does not exist.")
    if languages is None:
        folders = sorted(
            path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")
        )
        if not folders:
            raise PromptError(f"Prompt folder {root} has no language folders such as 'pl'.")
    else:
        folders = [root / language for language in _as_list(languages)]
    for folder in folders:
        if not LANGUAGE.fullmatch(folder.name):
            raise PromptError(
                f"Prompt folder {folder} is not named by a language code such as 'pl' or 'pt_BR'."
            )
        if not folder.is_dir():
            raise PromptError(f"Prompt folder {folder} does not exist.")
    return folders


def check_name(name: str, file: Path) -> None:
    """Refuse file names Asterisk cannot play as ``sound:callrec/<name>``."""
    if not SOUND_NAME.fullmatch(name):
        raise PromptError(
            f"Prompt file {file} must be named with letters, digits, '-' or '_' only."
        )


def _as_list(languages: Iterable[str]) -> list[str]:
    # A single code passed as a string would otherwise be read letter by letter.
    return [languages] if isinstance(languages, str) else list(languages)
