"""Witness records of the audit trail's head, pure: making, reading and checking them.

The hash chain alone cannot tell a rewritten trail from the real one: whoever can write the
database (and drop migration 0004's triggers) can rewrite a tail, recompute every later hash
and the head. A *witness* is a copy of the head (seq and hash, with the time it was taken)
kept outside the database and signed with HMAC-SHA256 under a key the database never holds.
An entry that was witnessed must still be in the trail with exactly the witnessed hash, and
the head can never be behind a witnessed entry; a witness line whose HMAC does not match was
not made with the key, and is named as forged.

Each record is one JSON line: ``{"at": ..., "hash": ..., "mac": ..., "seq": ...}``. Other
keys are ignored when reading, so the service's JSON log lines (event ``audit.witness``),
which carry the same four fields, can be checked as they are.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeGuard

from callrec_ari.audit.chain import GENESIS, canonical_json

_HASH_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True, kw_only=True)
class Witness:
    """One signed copy of the head: entry ``seq`` carried ``hash`` at time ``at``."""

    seq: int
    hash: str
    at: datetime
    mac: str

    def to_json(self) -> dict[str, object]:
        """The fields as written to the witness file and the log."""
        return {"seq": self.seq, "hash": self.hash, "at": _timestamp(self.at), "mac": self.mac}

    def to_line(self) -> str:
        """One line of the witness file, without its newline."""
        return canonical_json(self.to_json())


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _mac(key: bytes, *, seq: int, hash_: str, at: str) -> str:
    message = canonical_json({"seq": seq, "hash": hash_, "at": at}).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(key: bytes, *, seq: int, hash_: str, at: datetime) -> Witness:
    """A witness of entry ``seq`` with ``hash_``, signed with ``key``."""
    return Witness(
        seq=seq, hash=hash_, at=at, mac=_mac(key, seq=seq, hash_=hash_, at=_timestamp(at))
    )


def genuine(key: bytes, witness: Witness) -> bool:
    """Whether ``witness`` was signed with ``key`` (compared in constant time)."""
    expected = _mac(key, seq=witness.seq, hash_=witness.hash, at=_timestamp(witness.at))
    return hmac.compare_digest(expected, witness.mac)


class UnreadableLineError(ValueError):
    """A line that is not a witness record at all."""


def parse_line(text: str) -> Witness:
    """The witness record on one line; ``UnreadableLineError`` if it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise UnreadableLineError("it is not JSON") from None
    if not isinstance(data, dict):
        raise UnreadableLineError("it is not a JSON object")
    seq, hash_, at, mac = (data.get(key) for key in ("seq", "hash", "at", "mac"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise UnreadableLineError("its seq is not a whole number")
    if not _is_hex(hash_, 64) or not _is_hex(mac, 64):
        raise UnreadableLineError("its hash or mac is not 64 hex digits")
    if not isinstance(at, str):
        raise UnreadableLineError("its time is missing")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise UnreadableLineError("its time is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise UnreadableLineError("its time has no time zone")
    return Witness(seq=seq, hash=hash_, at=when, mac=mac)


def _is_hex(value: object, length: int) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == length and set(value) <= _HASH_CHARS


class Kind(enum.StrEnum):
    """What a witness found wrong."""

    UNREADABLE = "unreadable"  # a line that is not a witness record
    FORGED = "forged"  # a record not signed with the witness key
    REWRITTEN = "rewritten"  # a witnessed entry no longer carries the witnessed hash
    TRUNCATED = "truncated"  # the head is behind a witnessed entry


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One mismatch between the witnesses and the trail, in one sentence."""

    seq: int | None  # the entry concerned; None for an unreadable line
    kind: Kind
    text: str


@dataclass(frozen=True, kw_only=True)
class Line:
    """One line of a witness source, as read: its number and its record or why not."""

    number: int
    witness: Witness | None
    error: str = ""  # why the line is not a record, when witness is None


@dataclass(frozen=True, kw_only=True)
class Report:
    """The outcome of checking the trail against a witness source."""

    source: str
    records: int  # lines holding a genuine record
    newest: Witness | None  # the genuine record with the highest seq
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        """Whether every line is genuine and matches the trail."""
        return not self.problems


def read_lines(texts: Iterable[str]) -> list[Line]:
    """Every non-blank line of a witness source, numbered from 1, parsed."""
    lines = []
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            continue
        try:
            lines.append(Line(number=number, witness=parse_line(text)))
        except UnreadableLineError as exc:
            lines.append(Line(number=number, witness=None, error=str(exc)))
    return lines


def genuine_records(key: bytes, lines: Iterable[Line]) -> list[Witness]:
    """The records signed with ``key``, in the order read."""
    return [line.witness for line in lines if line.witness and genuine(key, line.witness)]


def check(
    key: bytes,
    lines: list[Line],
    *,
    source: str,
    head_seq: int | None,
    stored: Mapping[int, str],
) -> Report:
    """Compare the witness ``lines`` of ``source`` with the trail: its head's ``head_seq``
    (None if the head row is gone) and ``stored``, the hash of each witnessed entry still
    in the database. Every unreadable or forged line is named; of the genuine records, the
    first witnessed entry that no longer matches and the newest one beyond the head."""
    problems: list[Problem] = []
    genuine_ones: list[tuple[int, Witness]] = []
    for line in lines:
        where = f"Line {line.number} of {source}"
        if line.witness is None:
            problems.append(
                Problem(
                    seq=None,
                    kind=Kind.UNREADABLE,
                    text=f"{where} is not a witness record: {line.error}.",
                )
            )
        elif not genuine(key, line.witness):
            problems.append(
                Problem(
                    seq=line.witness.seq,
                    kind=Kind.FORGED,
                    text=f"{where} is forged: its signature for entry {line.witness.seq} "
                    "was not made with the witness key.",
                )
            )
        else:
            genuine_ones.append((line.number, line.witness))
    by_seq = sorted(genuine_ones, key=lambda item: (item[1].seq, item[0]))
    newest = by_seq[-1][1] if by_seq else None
    top = head_seq if head_seq is not None else max(stored, default=0)
    beyond = [item for item in by_seq if item[1].seq > top]
    if beyond:
        number, witness = beyond[-1]
        problems.append(
            Problem(
                seq=witness.seq,
                kind=Kind.TRUNCATED,
                text=f"The trail was cut back: it ends at entry {top}, but entry {witness.seq} "
                f"was witnessed at {_shown(witness.at)} (line {number} of {source}).",
            )
        )
    problems.extend(_rewritten(by_seq, top=top, stored=stored, source=source))
    return Report(source=source, records=len(genuine_ones), newest=newest, problems=tuple(problems))


def _rewritten(
    by_seq: list[tuple[int, Witness]], *, top: int, stored: Mapping[int, str], source: str
) -> list[Problem]:
    last_good: int | None = None
    for number, witness in by_seq:
        if witness.seq > top:
            break
        if stored.get(witness.seq, GENESIS if witness.seq == 0 else None) == witness.hash:
            last_good = witness.seq
            continue
        since = (
            "from its first entry on"
            if last_good is None
            else f"after entry {last_good}, the last witnessed entry that still matches"
        )
        state = "is gone" if witness.seq not in stored else "no longer carries the witnessed hash"
        return [
            Problem(
                seq=witness.seq,
                kind=Kind.REWRITTEN,
                text=f"Entry {witness.seq}, witnessed at {_shown(witness.at)} (line {number} of "
                f"{source}), {state}: the trail was rewritten {since}.",
            )
        ]
    return []


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
