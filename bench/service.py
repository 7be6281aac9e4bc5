"""callrec as a separate process (``callrec run``) on the sandbox, as it runs in production.

The config is the project's example pointed at the sandbox, with a SQLite file and the
benchmark's route.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from callrec_ari.config import read
from callrec_ari.db import lookup
from callrec_ari.db.models import Call, RecordingKey
from callrec_ari.db.session import open_sessions
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import PROJECT_DIR, sandbox_config


def service_config(
    asterisk: AsteriskSandbox, workdir: Path, *, prompts_dir: Path, prompt: str, language: str
) -> dict[str, Any]:
    """The example config pointed at the sandbox, with one route for every DID."""
    data = sandbox_config(read(PROJECT_DIR / "config.example.toml"), asterisk)
    data["prompts"]["source_dir"] = str(prompts_dir)
    data["database"]["url"] = f"sqlite+aiosqlite:///{workdir / 'callrec.sqlite3'}"
    data["database"]["journal_dir"] = str(workdir / "journal")
    data["consent"]["decline_key"] = ""  # no decline hint: the caller hears only the prompt
    data["default_route"].update(prompt=prompt, languages=[language])
    data["log"].update(format="json", level="info")
    return data


def records(service: ServiceProcess, limit: int = 100_000) -> list[CallRecord]:
    """Every call row the service stored (newest first)."""
    return asyncio.run(lookup.latest(service.database_url, limit))


RECORDED = f"{Consent.GIVEN}/{RecordingStatus.COMPLETE}"


def outcomes(records: list[CallRecord], prefix: str) -> dict[str, int]:
    """How the calls from numbers starting with ``prefix`` ended: ``consent/recording`` counts."""
    counts = Counter(
        f"{record.consent}/{record.recording_status}"
        for record in records
        if (record.caller_number or "").startswith(prefix)
    )
    return dict(counts.most_common())


def sealing_delays(service: ServiceProcess) -> list[float]:
    """For each recording the service sealed: seconds from its call's end to its key being
    stored, i.e. until it is encrypted on disk with no plain copy left to delete."""
    return asyncio.run(_sealing_delays(service.database_url))


async def _sealing_delays(url: str) -> list[float]:
    query = select(Call.ended_at, RecordingKey.sealed_at).join(
        RecordingKey, RecordingKey.recording_path == Call.recording_path
    )
    async with open_sessions(url) as sessions, sessions() as session:
        rows = (await session.execute(query)).all()
    return [(sealed - ended).total_seconds() for ended, sealed in rows if ended is not None]
