"""Right of access (GDPR Art. 15, seed 003 §14): a package of one number's recordings.

An export is one of the two ways audio leaves callrec (the other is a release): it answers an
open access or portability request of that very number, and is refused otherwise. A copy
needs the consent of every party (seed 004), so each call goes out as the caller's own leg
(``<uniqueid>.caller.wav``: the caller's voice only) unless the dpo states that the call's
agent consented (who, when, how), in which case the mix goes out. A call recorded before
legs were written has no caller leg: it is listed as not exportable without the agent's
consent, not copied. Every file copied is written to the copy register with its SHA-256.

The package is a folder::

    recordings/<uniqueid>.caller.wav  the caller's leg (or <uniqueid>.wav, the mix, with the
                                      agent's consent), each checked before copying
    calls.json                  what is kept about each call, for computers
    summary.txt, summary.html   the same for people
    SHA256SUMS                  the SHA-256 of every file above (``sha256sum -c``)

A recording that is missing, truncated, differs from the SHA-256 stored when it was made,
or whose stored path points outside the recordings folder is not copied; the package and
the result say why. Nothing stored changes, except the ``dsr_actions`` row of the export.
The folder is built under a temporary name beside the target and renamed at the end, so a
failed export leaves no half package, and an existing non-empty folder is never touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_export, may_export_any
from callrec_ari.agent_legs import AgentLeg, agents
from callrec_ari.copies.register import AgentConsent, CopyKind, Made, register
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.crypto.store import data_key
from callrec_ari.db.models import Call, CallCorrection, DsrRequest
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, RecordingError
from callrec_ari.numbers import parse_e164
from callrec_ari.recording import audio
from callrec_ari.recording.finalise import inspect_wav
from callrec_ari.recording.legs import caller_leg
from callrec_ari.recording.paths import relative_path, service_path
from callrec_ari.records import RecordingStatus
from callrec_ari.rights.audit import RequestStatus, record_action
from callrec_ari.rights.subject import CallSummary, calls_of_number, facts, hold_cases
from callrec_ari.rights.summary import Contents, Item, calls_json, summary_html, summary_text
from callrec_ari.storage.recordings import Offsite, fetched, present

RECORDINGS = "recordings"
CHECKSUMS = "SHA256SUMS"
# The requests an export answers: access (Art. 15) and portability (Art. 20).
EXPORT_KINDS = frozenset({"access", "portability"})
NEEDS_CONSENT = (
    "not exportable without the agent's consent: it was recorded before the caller's own "
    "leg was kept, so its only recording holds the agent's voice too"
)


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A recording that could not be put into the package, and why."""

    uniqueid: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Package:
    """What an export wrote."""

    folder: Path
    number: str
    calls: int  # calls described in the package
    files: dict[str, str]  # path inside the package -> SHA-256 (SHA256SUMS lists them)
    problems: tuple[Problem, ...]
    withheld: int  # restricted calls left out
    without_consent: tuple[str, ...] = ()  # calls with no caller leg and no agent's consent


@dataclass(frozen=True, kw_only=True)
class _Wanted:
    """A recording to copy into the package."""

    call_id: int
    uniqueid: str
    recording_path: str  # the mix's or the caller leg's, relative to the recordings folder
    sha256: str | None  # stored when it was recorded (the mix's or the leg's); None: not stored
    name: str  # file name inside recordings/
    kind: CopyKind
    consent: AgentConsent | None  # the agent's, when the mix goes out
    key: bytes | None = field(default=None, repr=False)  # the recording's, if it is encrypted


@dataclass(frozen=True, kw_only=True)
class _Entry:
    """One call to describe, with its recording to copy if it has one."""

    summary: CallSummary
    want: _Wanted | None
    corrections: tuple[dict[str, str | None], ...]
    problem: str | None = None  # why the call's recording is left out, decided before writing
    agents: tuple[AgentLeg, ...] = ()


async def export_number(
    session: AsyncSession,
    recordings_dir: Path,
    number: str,
    out_dir: Path,
    *,
    actor: Actor,
    now: datetime,
    region: str,
    request_id: int | None,
    agent_consent: AgentConsent | None = None,
    delivery: str | None = None,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> Package:
    """Write the access package of ``number`` to ``out_dir`` (which must not hold anything).

    ``ForbiddenError`` unless ``request_id`` names an open access or portability request of
    ``number``. ``agent_consent`` lets the mix of that agent's calls go out instead of the
    caller's leg. ``delivery`` says, for the record, where the package goes when ``out_dir``
    is only a temporary step (the web app's download); the record names ``out_dir`` otherwise.
    With ``offsite`` (object storage) recordings no longer on disk are fetched from the store
    (their ciphertext, into a private temporary folder) and decrypted into the package.
    """
    if not may_export_any(actor):
        raise ForbiddenError(f"{actor.described} may not export recordings.")
    e164 = parse_e164(number, region)
    answered = await answered_request(session, request_id, number=e164)
    _check_target(out_dir)
    calls = await calls_of_number(session, e164, region)
    included = [call for call in calls if may_export(actor, facts(call))]
    holds = await hold_cases(session, [call.id for call in included], now)
    corrections = await _corrections(session, [call.id for call in included])
    legs = await agent_legs_of(session, [call.uniqueid for call in included])
    wanted: dict[int, _Wanted] = {}
    without_consent: list[str] = []
    for call in included:
        if call.recording_path is None or call.recording_status != RecordingStatus.COMPLETE:
            continue
        try:  # a leg outside the folder counts as none: never followed
            leg = caller_leg(call.recording_path)
            leg_present = await present(recordings_dir, leg, offsite)
        except RecordingError:
            leg_present = False
        want = _choose(
            call,
            call.recording_path,
            agent_consent,
            leg_present=leg_present,
            others=frozenset(agents(legs.get(call.uniqueid, ()))),
        )
        if want is None:
            without_consent.append(call.uniqueid)
        else:
            # One data key seals the mix and its legs: it is stored under the mix's path.
            key = await data_key(session, keys, call.recording_path)
            wanted[call.id] = dataclasses.replace(want, key=key)
    draft = Contents(
        number=e164,
        generated_at=now,
        generated_by=actor.name,
        request_id=request_id,
        items=(),
        withheld=len(calls) - len(included),
    )
    entries = [
        _Entry(
            summary=CallSummary.of(call, holds.get(call.id, ())),
            want=wanted.get(call.id),
            corrections=corrections.get(call.id, ()),
            problem=NEEDS_CONSENT if call.uniqueid in without_consent else None,
            agents=legs.get(call.uniqueid, ()),
        )
        for call in included
    ]
    sealed = [(w.recording_path, w.key) for w in wanted.values() if w.key is not None]
    async with fetched(recordings_dir, sealed, offsite) as elsewhere:
        files, problems, copied = await asyncio.to_thread(
            _write_package, recordings_dir, out_dir, draft, entries, elsewhere
        )
    registered = [
        await register(
            session,
            Made(
                call_id=want.call_id,
                uniqueid=want.uniqueid,
                kind=want.kind,
                sha256=digest,
                recipient=answered.requester,
                purpose=f"{answered.kind} request of the data subject",
                request_id=answered.id,
                consent=want.consent,
            ),
            actor=actor.name,
            now=now,
        )
        for want, digest in copied
    ]
    await record_action(
        session,
        request_id=request_id,
        actor=actor,
        action="exported",
        now=now,
        detail={
            "number": e164,
            "delivered": delivery or f"folder {out_dir}",
            "calls": len(included),
            "recordings": sum(name.startswith(f"{RECORDINGS}/") for name in files),
            "problems": [problem.uniqueid for problem in problems],
            "withheld": draft.withheld,
            "copies": [copy.id for copy in registered],
            "without_agent_consent": without_consent,
            "agent_consent": None if agent_consent is None else agent_consent.to_json(),
        },
    )
    return Package(
        folder=out_dir,
        number=e164,
        calls=len(included),
        files=files,
        problems=problems,
        withheld=draft.withheld,
        without_consent=tuple(without_consent),
    )


async def answered_request(
    session: AsyncSession, request_id: int | None, *, number: str
) -> DsrRequest:
    """The open access or portability request of ``number`` an export answers.

    ``ForbiddenError`` (the refusal is audited) for no request, a closed one, another kind or
    another number's; ``NotFoundError`` for an id that does not exist.
    """
    if request_id is None:
        raise ForbiddenError(
            "Recordings are exported only to answer an open access or portability request "
            "of that number; open one first and name it."
        )
    request = await session.get(DsrRequest, request_id)
    if request is None:
        raise NotFoundError(f"Request {request_id} does not exist.")
    if request.status != RequestStatus.OPEN:
        raise ForbiddenError(
            f"Request {request_id} is {request.status}; an export needs an open one."
        )
    if request.kind not in EXPORT_KINDS:
        raise ForbiddenError(
            f"Request {request_id} is a {request.kind} request; only an access or portability "
            "request lets recordings leave."
        )
    if request.number_e164 != number:
        raise ForbiddenError(f"Request {request_id} is about {request.number_e164}, not {number}.")
    return request


def _choose(
    call: Call,
    recording_path: str,
    consent: AgentConsent | None,
    *,
    leg_present: bool,
    others: frozenset[str] = frozenset(),
) -> _Wanted | None:
    """What of ``call`` may go out: the mix with its agent's consent, else the caller's leg;
    ``None`` if it has no caller leg (recorded before legs were kept). A call transferred to
    ``others`` holds their voices too: one agent's consent does not let its mix out."""
    mix = relative_path(call.uniqueid, call.started_at).name
    if (
        consent is not None
        and call.agent is not None
        and call.agent == consent.agent
        and not others - {consent.agent}
    ):
        return _Wanted(
            call_id=call.id,
            uniqueid=call.uniqueid,
            recording_path=recording_path,
            sha256=call.sha256,
            name=mix,
            kind=CopyKind.MIX,
            consent=consent,
        )
    if not leg_present:
        return None  # no leg, or one outside the folder: never followed
    return _Wanted(
        call_id=call.id,
        uniqueid=call.uniqueid,
        recording_path=caller_leg(recording_path),
        sha256=call.caller_leg_sha256,  # stored when it settled; None on older rows
        name=PurePosixPath(caller_leg(mix)).name,
        kind=CopyKind.CALLER,
        consent=None,
    )


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"Output folder {out_dir} is a file; choose a new folder.")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"Output folder {out_dir} is not empty; choose a new one.")


async def _corrections(
    session: AsyncSession, call_ids: list[int]
) -> dict[int, tuple[dict[str, str | None], ...]]:
    if not call_ids:
        return {}
    rows = await session.scalars(
        select(CallCorrection)
        .where(CallCorrection.call_id.in_(call_ids))
        .order_by(CallCorrection.changed_at, CallCorrection.id)
    )
    found: dict[int, list[dict[str, str | None]]] = {}
    for row in rows:
        found.setdefault(row.call_id, []).append(
            {
                "field": row.field,
                "old_value": row.old_value,
                "new_value": row.new_value,
                "changed_at": row.changed_at.isoformat(),
            }
        )
    return {call_id: tuple(items) for call_id, items in found.items()}


def _write_package(
    recordings_dir: Path,
    out_dir: Path,
    draft: Contents,
    calls: list[_Entry],
    elsewhere: dict[str, audio.StoredAudio],
) -> tuple[dict[str, str], tuple[Problem, ...], list[tuple[_Wanted, str]]]:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (work / RECORDINGS).mkdir()
        files: dict[str, str] = {}
        items: list[Item] = []
        problems: list[Problem] = []
        copied: list[tuple[_Wanted, str]] = []
        for entry in calls:
            file, problem = None, entry.problem
            if entry.want is not None:
                name = f"{RECORDINGS}/{entry.want.name}"
                try:
                    files[name] = _copy(recordings_dir, entry.want, work / name, elsewhere)
                    copied.append((entry.want, files[name]))
                    file = name
                except RecordingError as exc:
                    problem = str(exc)
                    problems.append(Problem(uniqueid=entry.want.uniqueid, message=problem))
            items.append(
                Item(
                    call=entry.summary,
                    file=file,
                    problem=problem,
                    corrections=entry.corrections,
                    agents=entry.agents,
                )
            )
        contents = dataclasses.replace(draft, items=tuple(items))
        for name, text in (
            ("calls.json", calls_json(contents)),
            ("summary.txt", summary_text(contents)),
            ("summary.html", summary_html(contents)),
        ):
            data = text.encode("utf-8")
            (work / name).write_bytes(data)
            files[name] = hashlib.sha256(data).hexdigest()
        listing = "".join(f"{digest}  {name}\n" for name, digest in sorted(files.items()))
        (work / CHECKSUMS).write_text(listing, encoding="utf-8")
        _move_into_place(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return files, tuple(problems), copied


def _copy(
    recordings_dir: Path, want: _Wanted, target: Path, elsewhere: dict[str, audio.StoredAudio]
) -> str:
    """Copy one recording after checking it (from ``elsewhere`` when it is no longer in the
    recordings folder); its SHA-256. ``RecordingError`` says what is wrong."""
    try:
        source = service_path(recordings_dir, want.recording_path)
    except RecordingError:
        raise RecordingError(
            f"The recording of call {want.uniqueid} was not copied: its stored path "
            f"{want.recording_path!r} is outside the recordings folder."
        ) from None
    try:
        # Neither form there: measuring the plain name says it does not exist.
        stored = (
            audio.stored_audio(source, want.key)
            or elsewhere.get(want.recording_path)
            or audio.StoredAudio(path=source)
        )
        found = inspect_wav(stored)
    except RecordingError as exc:
        raise RecordingError(
            f"The recording of call {want.uniqueid} was not copied: {_lower_first(str(exc))}"
        ) from None
    if want.sha256 is not None and found.sha256 != want.sha256:
        raise RecordingError(
            f"The recording of call {want.uniqueid} was not copied: its SHA-256 differs from "
            "the one stored when it was recorded, so the file has changed since."
        )
    audio.copy_plain(stored, target)  # decrypted on the way, if it is encrypted
    copied = hashlib.sha256(target.read_bytes()).hexdigest()
    if copied != found.sha256:
        target.unlink()
        raise RecordingError(
            f"The recording of call {want.uniqueid} was not copied: it changed while copying."
        )
    return copied


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _move_into_place(work: Path, out_dir: Path) -> None:
    try:
        # rename(2) replaces an empty directory and refuses a non-empty one, atomically.
        work.replace(out_dir)
    except OSError:
        raise InputError(f"Output folder {out_dir} is not empty; choose a new one.") from None
