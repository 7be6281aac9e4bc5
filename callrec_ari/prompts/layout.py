"""Where prompt files live, shared by the build and the install step.

::

    prompts/<lang>/<name>.txt               text, spoken by espeak-ng
    prompts/<lang>/studio/<name>.<ext>      a studio recording, which wins over the text
    prompts/<lang>/<name>.wav               the built telephone WAV (committed to git)
    <sounds>/<lang>/callrec/<name>.wav      the installed copy: sound:callrec/<name> in <lang>

A ``<sounds>/<lang>`` folder may be a symbolic link (Debian's ``en`` points through
``/etc/alternatives`` to ``en_US_f_Allison``): ``sound_folder`` follows it when it leads to a
folder, because that folder is what Asterisk reads, and refuses with one sentence a link that
leads nowhere, loops, or leads to a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from callrec_ari.errors import PromptError
from callrec_ari.names import LANGUAGE, SOUND_NAME
from callrec_ari.prompts.links import LinkLoopError, resolve

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


def sound_folder(sounds_dir: Path, language: str, *, asterisk_root: Path = Path("/")) -> Path:
    """Where ``sound:callrec/<name>`` in ``language`` really lives, symbolic links followed.

    ``asterisk_root`` is Asterisk's root folder as this process sees it: absolute link targets
    inside it are read as Asterisk reads them. The folder need not exist yet; a link on the
    way that leads nowhere, loops or leads to a file raises ``PromptError``.
    """
    folder = _followed(sounds_dir / language, asterisk_root)
    return _followed(folder / SOUNDS_FOLDER, asterisk_root)


def _followed(path: Path, root: Path) -> Path:
    """``path`` with its links followed; ``PromptError`` unless it is, or may become, a folder."""
    try:
        if not path.is_symlink():
            if path.exists() and not path.is_dir():
                raise PromptError(f"Sound folder {path} is a file, not a folder; move it away.")
            return path
        target = path.readlink()
        real = resolve(path, root)
        is_dir, exists = real.is_dir(), real.exists()
    except LinkLoopError:
        raise PromptError(
            f"Sound folder {path} is a symbolic link to {target} that loops back on itself; "
            "replace it with a link to a real folder."
        ) from None
    except OSError as exc:
        raise PromptError(f"Sound folder {path} cannot be read: {exc.strerror}.") from None
    if is_dir:
        return real
    if exists:
        raise PromptError(
            f"Sound folder {path} is a symbolic link to {target}, which leads to the file "
            f"{real}, not a folder; replace it with a link to a real folder."
        )
    raise PromptError(
        f"Sound folder {path} is a symbolic link to {target}, which leads nowhere seen from "
        f"here with Asterisk's root at {root} ({real} does not exist): run the install where "
        "Asterisk's root is /, set [prompts] asterisk_root to Asterisk's root folder as this "
        "machine sees it, or replace the link with one to a real folder."
    )


def check_name(name: str, file: Path) -> None:
    """Refuse file names Asterisk cannot play as ``sound:callrec/<name>``."""
    if not SOUND_NAME.fullmatch(name):
        raise PromptError(
            f"Prompt file {file} must be named with letters, digits, '-' or '_' only."
        )


def _as_list(languages: Iterable[str]) -> list[str]:
    # A single code passed as a string would otherwise be read letter by letter.
    return [languages] if isinstance(languages, str) else list(languages)
