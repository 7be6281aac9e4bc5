"""What counts as a stated reason: visible characters, not whatever bytes were typed.

A reason made of ten zero-width spaces has a length of ten and says nothing. Every check of
a reason or justification (listening, releases, holds, erasure, requests) counts only the
characters a reader of the audit trail would see: control and format characters (``Cc``,
``Cf``: zero-width spaces and joiners, direction marks), unassigned, surrogate and private
code points, separators (``Zs``, ``Zl``, ``Zp``: spaces of every width, line breaks) and
combining marks (``Mn``, ``Me``: they decorate a visible letter and add none of their own)
are not counted.
"""

from __future__ import annotations

import unicodedata

from callrec_ari.errors import InputError

INVISIBLE = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})


def visible_length(text: str) -> int:
    """How many characters of ``text`` a reader sees (see the module's docstring)."""
    return sum(1 for char in text if unicodedata.category(char) not in INVISIBLE)


def is_blank(text: str | None) -> bool:
    """Whether ``text`` is missing or shows nothing at all."""
    return text is None or visible_length(text) == 0


def require_reason(text: str | None, what: str, *, minimum: int = 1) -> str:
    """``text`` stripped; ``InputError`` naming ``what`` if fewer than ``minimum`` of its
    characters are visible."""
    shown = visible_length(text or "")
    if not (text or "").strip():
        raise InputError(f"The {what} is empty.")
    if shown == 0:
        raise InputError(f"The {what} has no visible characters (only spaces or marks).")
    if shown < minimum:
        raise InputError(f"The {what} is shorter than {minimum} visible characters.")
    return (text or "").strip()
