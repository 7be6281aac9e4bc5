"""Every version of every installed prompt: numbered, audited, and its audio kept as evidence.

A call's evidence names the SHA-256 of the audio it heard. To show an auditor what that audio
said, each new audio of a prompt file becomes a row in ``prompt_versions`` (version number,
hash, size, when, by whom, how: ``install``, ``replace`` or ``outside`` for a file changed
behind callrec's back) and a copy of its audio under the archive folder
(``<journal_dir>/prompt-versions/<lang>/<name>/v<N>-<sha256>.wav``, outside Asterisk's sounds
path so nobody can play it to a caller). Each new version is audited (``prompt.version``,
with the old and the new hash) in the transaction that records it. A version's audio is
deleted (``purge_prompt_audio``) once it is no longer current and no kept call names its hash.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import exists, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.config import Settings
from callrec_ari.db.models import Call, PromptVersion
from callrec_ari.db.session import describe_error
from callrec_ari.errors import CallrecError, PromptError
from callrec_ari.prompts.audio import write_atomically
from callrec_ari.prompts.catalog import installed_path, prompt_names, route_languages
from callrec_ari.prompts.versions import ARCHIVE_FOLDER, Current, Key, PromptVersions
from callrec_ari.routing import store as routing
from callrec_ari.supervision import UNWATCHED, Rounds

__all__ = [
    "ARCHIVE_FOLDER",
    "Found",
    "PromptWatcher",
    "archive_dir",
    "hash_installed",
    "purge_prompt_audio",
    "record_versions",
    "sync_versions",
]

log = structlog.get_logger(__name__)

SERVICE_ACTOR = "callrec"
OUTSIDE = "outside"  # changed behind callrec's back (or installed before versions were kept)


@dataclass(frozen=True, kw_only=True)
class Found:
    """One installed prompt file as read now."""

    sha256: str
    size: int
    data: bytes


@dataclass(frozen=True, kw_only=True)
class _Stat:
    mtime_ns: int
    size: int
    sha256: str


def archive_dir(settings: Settings) -> Path:
    """Where the audio of every prompt version is kept: beside the journal, not playable."""
    return settings.database.journal_dir / ARCHIVE_FOLDER


def hash_installed(
    settings: Settings, seen: dict[Path, _Stat] | None = None
) -> tuple[dict[Key, Found], dict[Key, str]]:
    """Read and hash each prompt file ``settings`` play (call it in a worker thread).

    With ``seen`` (kept between calls) a file whose size and modification time did not change
    is not read again: it is returned in the second map (its hash) instead of the first.
    Missing or unreadable files are left out; Asterisk cannot play them either.
    """
    changed: dict[Key, Found] = {}
    unchanged: dict[Key, str] = {}
    for language in route_languages(settings):
        for name in prompt_names(settings):
            path = installed_path(settings, language, name)
            try:
                stat = path.stat()
                known = seen.get(path) if seen is not None else None
                if known and (known.mtime_ns, known.size) == (stat.st_mtime_ns, stat.st_size):
                    unchanged[(name, language)] = known.sha256
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            sha256 = hashlib.sha256(data).hexdigest()
            changed[(name, language)] = Found(sha256=sha256, size=len(data), data=data)
            if seen is not None:
                seen[path] = _Stat(mtime_ns=stat.st_mtime_ns, size=stat.st_size, sha256=sha256)
    return changed, unchanged


async def record_versions(
    session: AsyncSession,
    settings: Settings,
    found: Mapping[Key, Found],
    *,
    now: datetime,
    actor: str,
    source: str,
    client: str | None = None,
) -> dict[Key, Current]:
    """Make each file of ``found`` whose hash is not its prompt's current one a new version.

    Inside the caller's transaction: the old version is retired, the new one numbered, its
    audio copied to the archive and a ``prompt.version`` entry appended. Returns the current
    version of every prompt known to the database afterwards.
    """
    rows = (
        await session.scalars(select(PromptVersion).where(PromptVersion.retired_at.is_(None)))
    ).all()
    current = {(row.name, row.language): row for row in rows}
    for (name, language), file in sorted(found.items()):
        old = current.get((name, language))
        if old is not None and old.sha256 == file.sha256:
            continue
        highest = await session.scalar(
            select(func.max(PromptVersion.version)).where(
                PromptVersion.name == name, PromptVersion.language == language
            )
        )
        version = (highest or 0) + 1
        relative = f"{language}/{name}/v{version}-{file.sha256}.wav"
        # Audited first: the head row's lock makes two writers of versions wait for each other.
        await trail.append(
            session,
            at=now,
            actor=actor,
            action="prompt.version",
            target=f"prompt:{language}/{name}",
            detail={
                "version": version,
                "sha256": file.sha256,
                "previous_version": old.version if old else None,
                "previous_sha256": old.sha256 if old else None,
                "source": source if old is not None or source != OUTSIDE else "first_seen",
                "size_bytes": file.size,
            },
            client=client,
        )
        if old is not None:
            old.retired_at = now
        row = PromptVersion(
            name=name,
            language=language,
            version=version,
            sha256=file.sha256,
            size_bytes=file.size,
            created_at=now,
            created_by=actor,
            source=source if old is not None or source != OUTSIDE else "first_seen",
            retired_at=None,
            audio_path=relative,
        )
        session.add(row)
        await _keep_audio(archive_dir(settings) / relative, file.data)
        current[(name, language)] = row
        log.info("prompt.version", prompt=f"{language}/{name}", version=version, source=source)
    await session.flush()
    return {key: Current(version=row.version, sha256=row.sha256) for key, row in current.items()}


async def sync_versions(
    session: AsyncSession,
    settings: Settings,
    *,
    now: datetime,
    actor: str,
    source: str,
    client: str | None = None,
) -> dict[Key, Current]:
    """Version the prompt files as installed now (after ``install`` or a replacement).

    ``settings`` are the config file's: the admin's routes are applied here, so a language
    or prompt an admin added is versioned too.
    """
    settings = await routing.effective(session, settings)
    found, _ = await asyncio.to_thread(hash_installed, settings)
    return await record_versions(
        session, settings, found, now=now, actor=actor, source=source, client=client
    )


async def _keep_audio(path: Path, data: bytes) -> None:
    try:
        await asyncio.to_thread(_write, path, data)
    except OSError as exc:
        raise PromptError(
            f"Prompt version folder {path.parent} cannot be written: {exc.strerror or exc}."
        ) from None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)


async def purge_prompt_audio(session: AsyncSession, settings: Settings, *, now: datetime) -> int:
    """Delete the kept audio of versions no longer current that no kept call heard.

    "Kept" is a call row not yet purged: its evidence names the hash while the call exists.
    Each deletion is audited (``prompt.version_purged``); returns how many were deleted.
    """
    heard = exists().where(Call.purged_at.is_(None), Call.evidence.contains(PromptVersion.sha256))
    due = (
        await session.scalars(
            select(PromptVersion).where(
                PromptVersion.retired_at.is_not(None),
                PromptVersion.audio_deleted_at.is_(None),
                ~heard,
            )
        )
    ).all()
    for row in due:
        await trail.append(
            session,
            at=now,
            actor=SERVICE_ACTOR,
            action="prompt.version_purged",
            target=f"prompt:{row.language}/{row.name}",
            detail={"version": row.version, "sha256": row.sha256},
        )
        if row.audio_path is not None:
            path = archive_dir(settings) / row.audio_path
            await asyncio.to_thread(path.unlink, missing_ok=True)
        row.audio_deleted_at = now
    return len(due)


class PromptWatcher:
    """Keeps ``PromptVersions`` current for the call path, off the call path.

    Each round stats every installed prompt and reads only files whose size or modification
    time changed; a new hash becomes a new version (``outside`` unless callrec's own
    ``install`` or replacement already recorded it). With the database down, the new hashes
    are put in the map at once (without a version number) and the version is recorded later.
    """

    def __init__(
        self, versions: PromptVersions, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._versions = versions
        self._sessions = sessions
        self._seen: dict[Path, _Stat] = {}
        self._pending: dict[Key, Found] = {}  # read, not yet recorded in the database
        self._loaded = False

    @property
    def versions(self) -> PromptVersions:
        """The map this watcher keeps current."""
        return self._versions

    async def round(self, settings: Settings, *, now: datetime) -> None:
        """Look at the files once and update the map; database errors propagate."""
        changed, unchanged = await asyncio.to_thread(hash_installed, settings, self._seen)
        self._pending.update(changed)
        hashes = {**unchanged, **{key: found.sha256 for key, found in changed.items()}}
        known = self._versions.snapshot()
        interim = {key: _same_or_new(known.get(key), sha256) for key, sha256 in hashes.items()}
        if interim != known:
            self._versions.update(interim)
        if not self._pending and self._loaded:
            return
        async with self._sessions() as session, session.begin():
            current = await record_versions(
                session, settings, self._pending, now=now, actor=SERVICE_ACTOR, source=OUTSIDE
            )
        self._pending.clear()
        self._loaded = True
        self._versions.update(
            {key: _same_or_new(current.get(key), sha256) for key, sha256 in hashes.items()}
        )

    async def run(
        self,
        settings: Callable[[], Settings],
        *,
        interval_seconds: float,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rounds: Rounds = UNWATCHED,
    ) -> None:
        """A round every ``interval_seconds`` with the settings in force, until cancelled."""
        failing = False
        while True:
            try:
                await self.round(settings(), now=clock())
            except (SQLAlchemyError, OSError, CallrecError) as exc:
                error = exc if isinstance(exc, CallrecError) else describe_error(exc)
                if not failing:  # once per outage, not every round
                    log.warning("prompt_versions.not_recorded", error=str(error))
                failing = True
                rounds.failed(f"Prompt versions could not be recorded: {error}")
            else:
                failing = False
                rounds.succeeded()
            await sleep(interval_seconds)


def _same_or_new(current: Current | None, sha256: str) -> Current:
    """``current`` if it names this audio, else the audio by its hash alone."""
    if current is not None and current.sha256 == sha256:
        return current
    return Current(version=None, sha256=sha256)
