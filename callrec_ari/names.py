"""What a language code and a sound name may look like, wherever one comes in.

The config file, the admin's routes and prompt uploads all accept them, and a prompt's
language becomes a folder name, so all of them check against the same patterns.
"""

from __future__ import annotations

import re

LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
"""A language as Asterisk names sound folders: ``pl``, ``fil``, ``pt_BR``; use ``fullmatch``."""

SOUND_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A prompt's file name without extension; use ``fullmatch``."""

UNIQUEID = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_-]{0,31}-)?[0-9]{1,20}\.[0-9]{1,10}")
"""An Asterisk channel uniqueid: ``1795514341.6``, or with the PBX's ``systemname``
(asterisk.conf) in front, ``pbx-a-1795514341.6``: what keeps the ids of several Asterisk nodes
sharing one database apart (two nodes count the same way); use ``fullmatch``."""

NODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A node's name (``[service] node``), as the rows it recorded carry it; use ``fullmatch``."""
