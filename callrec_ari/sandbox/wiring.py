"""The README's "Wiring Asterisk" steps as code: merge ``dialplan/*.sample`` into a stock
``/etc/asterisk`` exactly as the samples' header comments tell an admin to.

The rule every sample follows: a section the file already has (Debian's ``[globals]`` in
extensions.conf, ``[general]`` in http.conf and ari.conf) gets the sample's keys set inside
it, changing a line that already sets the key and adding the others right under the header;
never a second copy of the section, which Asterisk would ignore or misread. Every other
section, and ``#include`` lines, are appended at the end of the file, in the sample's order.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from callrec_ari.errors import SandboxError

_HEADER = re.compile(r"^\[(?P<name>[^\]]+)\](?P<rest>.*)$")
_ASSIGNMENT = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.-]+)\s*(=>?)")


@dataclass
class _Section:
    header: str  # the header line as written ("" for lines before the first header)
    name: str
    lines: list[str] = field(default_factory=list)  # the body, comments included


def merge(stock: str, sample: str) -> str:
    """``stock`` (a config file's text) with ``sample`` merged in by the rule above."""
    sections = _sections(stock)
    existing = {s.name: s for s in sections if s.header and not _is_template_use(s.header)}
    appended: list[str] = []
    for part in _sections(sample):
        if not part.header:
            appended.extend(line for line in part.lines if line.startswith("#include"))
            continue
        target = existing.get(part.name)
        if target is not None and _is_plain(part.header):
            _set_keys(target, part.lines)
        else:
            appended.extend(["", part.header, *_body(part.lines)])
    text = "\n".join(line for s in sections for line in ([s.header] if s.header else []) + s.lines)
    return text.rstrip("\n") + "\n" + "\n".join(appended).rstrip("\n") + "\n"


def _sections(text: str) -> list[_Section]:
    sections = [_Section(header="", name="")]
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            sections.append(_Section(header=line, name=match.group("name")))
        elif line.startswith("#include") and sections[-1].header:
            # Between sections it belongs to none of them: it stays where it stands.
            sections.append(_Section(header="", name="", lines=[line]))
        else:
            sections[-1].lines.append(line)
    return sections


def _is_plain(header: str) -> bool:
    """A header with no template marks: ``[general]``, not ``[name](!)`` or ``[name](tpl)``."""
    match = _HEADER.match(header)
    return match is not None and not match.group("rest").split(";")[0].strip()


def _is_template_use(header: str) -> bool:
    return not _is_plain(header)


def _body(lines: list[str]) -> list[str]:
    """The sample's lines of one section, trailing blank lines dropped, #include lines out."""
    body = [line for line in lines if not line.startswith("#include")]
    while body and not body[-1].strip():
        body.pop()
    return body


def _set_keys(section: _Section, sample_lines: list[str]) -> None:
    for line in reversed(_body(sample_lines)):
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue  # comments only explain; the file keeps its own
        key = match.group("key").lower()
        for index, old in enumerate(section.lines):
            found = _ASSIGNMENT.match(old)
            if found is not None and found.group("key").lower() == key:
                section.lines[index] = line
                break
        else:
            section.lines.insert(0, line)


# Each sample and the file of /etc/asterisk it is merged into (README, "Wiring Asterisk").
SAMPLES = {
    "extensions.conf.sample": "extensions.conf",
    "pjsip.conf.sample": "pjsip.conf",
    "http.conf.sample": "http.conf",
    "ari.conf.sample": "ari.conf",
    "features.conf.sample": "features.conf",  # the withdrawal key (applicationmap)
    "musiconhold.conf.sample": "musiconhold.conf",  # the withdrawal tone
}
COPIED = ("extensions_callrec.conf",)  # copied as it is, beside extensions.conf


def wire(etc: Path, dialplan_dir: Path, replacements: Mapping[str, Mapping[str, str]]) -> None:
    """The README's wiring steps on the configuration folder ``etc``: copy
    extensions_callrec.conf, then merge each sample into its file.

    ``replacements`` maps a sample's name to ``{text: replacement}``: the values an admin
    types in (addresses, ports, passwords). Each text must occur in the sample, so a sample
    that changes under the caller fails loudly instead of being wired half.
    """
    merged: dict[Path, str] = {}
    for sample_name, target_name in SAMPLES.items():
        sample = (dialplan_dir / sample_name).read_text(encoding="utf-8")
        for text, replacement in replacements.get(sample_name, {}).items():
            if text not in sample:
                raise SandboxError(f"Sample {sample_name} no longer contains {text!r}.")
            sample = sample.replace(text, replacement)
        target = etc / target_name
        stock = target.read_text(encoding="utf-8") if target.exists() else ""
        merged[target] = merge(stock, sample)
    for name in COPIED:
        shutil.copy(dialplan_dir / name, etc / name)
    for target, text in merged.items():
        target.write_text(text, encoding="utf-8")
