"""Where the caller's own leg of a recording lies, beside the mix.

MixMonitor writes ``<day>/<uniqueid>.caller.wav`` and ``<day>/<uniqueid>.agent.wav`` next to
``<day>/<uniqueid>.wav``. This is a stand-in for ``callrec_ari.recording.legs.caller_leg``
(same name, same answer), kept here until that module is merged.
"""

from __future__ import annotations

from pathlib import PurePosixPath

CALLER = "caller"


def caller_leg(relative_path: str) -> str:
    """The caller leg's path, relative to the recordings folder, of the mix at ``relative_path``."""
    mix = PurePosixPath(relative_path)
    return str(mix.with_name(f"{mix.stem}.{CALLER}{mix.suffix}"))
