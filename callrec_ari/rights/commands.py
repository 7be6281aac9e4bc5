"""``callrec find``, ``export``, ``erase``, ``rectify``, ``history``, ``restrict``...

Data-subject rights from the command line: parsing and printing only; the work is done by
the service modules beside this one, in one database transaction per command
(``job.py``). ``requests`` and ``dnr`` are in ``list_commands.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.cli import CommandLine
from callrec_ari.cli_audit import record_read
from callrec_ari.copies.register import AgentConsent
from callrec_ari.errors import ForbiddenError, InputError
from callrec_ari.log import mask_number
from callrec_ari.rights import erasure, export, list_commands, lookup, rectify, restrict
from callrec_ari.rights import text as show
from callrec_ari.rights.job import Job, actor_option, handler, out, out_json, request_option
from callrec_ari.rights.subject import CallSummary
from callrec_ari.storage.recordings import opened_offsite

_PAGE = 200


def add_commands(cli: CommandLine) -> None:
    """Add the data-subject rights commands to the ``callrec`` command line."""
    find = cli.add("find", handler(cli, _find), "Everything kept about a phone number.")
    find.add_argument("number")
    find.add_argument("--json", action="store_true", help="one JSON document")
    find.add_argument("--limit", type=int, help="at most this many calls")

    package = cli.add(
        "export", handler(cli, _export), "Export a number's recordings (Art. 15, 20)."
    )
    package.add_argument("number")
    package.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder")
    # Not required by argparse: the service refuses without it, in one sentence, audited.
    request_option(package)
    package.add_argument(
        "--agent-consent", metavar="AGENT", help="this agent consented to a copy of the mix"
    )
    package.add_argument("--consent-on", metavar="DATE", help="when the agent consented")
    package.add_argument("--consent-how", metavar="TEXT", help="how the agent consented")
    actor_option(package)

    erase = cli.add("erase", handler(cli, _erase), "Erase a number's calls (Art. 17, 7(3)).")
    erase.add_argument("number")
    erase.add_argument("--do-not-record", action="store_true", help="never record it again")
    erase.add_argument("--reason", help="why (kept in the request's record)")
    request_option(erase)
    actor_option(erase)

    fix = cli.add("rectify", handler(cli, _rectify), "Correct a call's metadata (Art. 16).")
    fix.add_argument("uniqueid")
    fix.add_argument("--field", required=True, help=", ".join(rectify.Field))
    fix.add_argument("--value", required=True)
    fix.add_argument("--reason", required=True)
    request_option(fix)
    actor_option(fix)

    past = cli.add("history", handler(cli, _history), "A call's corrections, originals first.")
    past.add_argument("uniqueid")

    for name, text in (
        ("restrict", "Restrict a call or a number's calls (Art. 18, 21)."),
        ("unrestrict", "Lift the restriction of a call or a number's calls."),
    ):
        parser = cli.add(name, handler(cli, _restrict), text)
        parser.add_argument("uniqueid", nargs="?")
        parser.add_argument("--number", help="all calls from this number")
        parser.add_argument("--reason", required=True)
        parser.set_defaults(lift=name == "unrestrict")
        request_option(parser)
        actor_option(parser)

    list_commands.add_commands(cli)


def _find(job: Job) -> int:
    args = job.args

    async def work(session: AsyncSession) -> tuple[lookup.Findings, list[CallSummary]]:
        page_size = min(args.limit or _PAGE, _PAGE)
        found = await lookup.find_everything(
            session, args.number, region=job.region, now=job.now, limit=page_size
        )
        calls, cursor = list(found.calls.calls), found.calls.next_cursor
        while cursor and (args.limit is None or len(calls) < args.limit):
            page = await lookup.find_calls(
                session, args.number, region=job.region, now=job.now, limit=_PAGE, after=cursor
            )
            calls += page.calls
            cursor = page.next_cursor
        shown = calls[: args.limit] if args.limit else calls
        await record_read(
            session,
            actor=job.actor.name,
            now=job.now,
            action="search.subject",
            command="find",
            asked={"number": mask_number(found.number), "limit": args.limit},
            results=len(shown),
        )
        return found, shown

    found, calls = job.run(work)
    if args.json:
        document = {**found.to_json(), "calls": [call.to_json() for call in calls]}
        document.pop("next_cursor")  # the command pages through everything itself
        out_json(document)
    else:
        out(show.findings(found, calls))
    return 0


def _export(job: Job) -> int:
    try:
        result = _export_package(job)
    except ForbiddenError as exc:
        _record_refusal(job, exc)
        raise
    out(show.package(result))
    for problem in result.problems:
        sys.stderr.write(f"callrec: {problem.message}\n")
    return 1 if result.problems else 0


def _record_refusal(job: Job, refusal: ForbiddenError) -> None:
    """The refused export in the trail, in a transaction of its own (the export's is gone):
    a decision the dpo must be able to find later, as the web app's refusals are."""
    detail = {"error_id": refusal.error_id, "message": str(refusal)}
    job.run(
        lambda session: trail.append(
            session,
            at=job.now,
            actor=job.actor.name,
            action="access.refused",
            target="cli export",
            detail=detail,
        )
    )


def _export_package(job: Job) -> export.Package:
    args = job.args

    async def export_package(session: AsyncSession) -> export.Package:
        async with opened_offsite(job.settings) as offsite:
            return await export.export_number(
                session,
                job.recordings,
                args.number,
                args.out,
                actor=job.actor,
                now=job.now,
                region=job.region,
                request_id=args.request,
                agent_consent=AgentConsent.stated(
                    args.agent_consent, args.consent_on, args.consent_how
                ),
                keys=job.settings.encryption.master_keys,
                offsite=offsite,
            )

    return job.run(export_package)


def _erase(job: Job) -> int:
    args = job.args

    async def erase(session: AsyncSession) -> erasure.Erasure:
        # With object storage the recordings' objects go too (storage/recordings.py).
        async with opened_offsite(job.settings) as offsite:
            return await erasure.erase_number(
                session,
                job.recordings,
                args.number,
                actor=job.actor,
                now=job.now,
                region=job.region,
                request_id=args.request,
                do_not_record=args.do_not_record,
                reason=args.reason,
                offsite=offsite,
            )

    result = job.run(erase)
    out(show.erasure(result))
    return 0


def _rectify(job: Job) -> int:
    args = job.args
    result = job.run(
        lambda session: rectify.rectify(
            session,
            args.uniqueid,
            field=args.field,
            value=args.value,
            reason=args.reason,
            actor=job.actor,
            now=job.now,
            region=job.region,
            request_id=args.request,
        )
    )
    out(show.change(result, args.uniqueid))
    return 0


def _history(job: Job) -> int:
    async def read(session: AsyncSession) -> rectify.History:
        found = await rectify.history(session, job.args.uniqueid)
        await record_read(
            session,
            actor=job.actor.name,
            now=job.now,
            action="call.history",
            command="history",
            asked={},
            results=len(found.changes),
            target=job.args.uniqueid,
        )
        return found

    out(show.history(job.run(read)))
    return 0


def _restrict(job: Job) -> int:
    args = job.args
    if (args.uniqueid is None) == (args.number is None):
        raise InputError("Name either one call (UNIQUEID) or a number (--number), not both.")
    common: dict[str, Any] = {
        "reason": args.reason,
        "actor": job.actor,
        "now": job.now,
        "request_id": args.request,
    }
    if args.number is not None:
        by_number = restrict.lift_number if args.lift else restrict.restrict_number
        result = job.run(
            lambda session: by_number(session, args.number, region=job.region, **common)
        )
    else:
        by_call = restrict.lift_call if args.lift else restrict.restrict_call
        result = job.run(lambda session: by_call(session, args.uniqueid, **common))
    out(show.restriction(result, "lifted" if args.lift else "restricted"))
    return 0
