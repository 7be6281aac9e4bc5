"""The rights service's results as lines for a terminal (the CLI prints these)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from callrec_ari.copies.register import CopyView
from callrec_ari.rights.donotrecord import Entry
from callrec_ari.rights.erasure import Erasure
from callrec_ari.rights.export import Package
from callrec_ari.rights.lookup import Findings
from callrec_ari.rights.rectify import Change, History
from callrec_ari.rights.requests import RequestDetail, RequestView
from callrec_ari.rights.restrict import Restriction
from callrec_ari.rights.subject import CallSummary


def when(moment: datetime | None) -> str:
    """A time to the second, in UTC, or ``-``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def day(moment: datetime | None) -> str:
    """A date, or ``-``."""
    return moment.strftime("%Y-%m-%d") if moment else "-"


def calls(rows: Sequence[CallSummary]) -> list[str]:
    """One line per call, newest first, flags at the end."""
    lines = [
        f"{'uniqueid':<20} {'started (UTC)':<19} {'caller':<16} {'agent':<12} {'recording':<9}"
    ]
    for call in rows:
        flags = [
            *(["restricted"] if call.restricted else []),
            *(["rectified"] if call.rectified_at else []),
            *([f"held ({', '.join(call.legal_holds)})"] if call.legal_holds else []),
            *(["erasure pending"] if call.erasure_requested_at else []),
        ]
        lines.append(
            f"{call.uniqueid:<20} {when(call.started_at):<19} "
            f"{call.caller_e164 or call.caller_number or '-':<16} {call.agent or '-':<12} "
            f"{call.recording_status:<9} {' '.join(flags)}".rstrip()
        )
    return lines


def findings(found: Findings, all_calls: Sequence[CallSummary]) -> list[str]:
    """Everything found about a number."""
    lines = [f"{found.number}: {len(all_calls)} stored call(s)"]
    if all_calls:
        lines += ["", *calls(all_calls)]
    if found.requests:
        lines += ["", "requests:", *(_request_line(r) for r in found.requests)]
    if found.holds_by_number:
        lines += ["", f"legal holds placed on this number: {', '.join(found.holds_by_number)}"]
    if found.do_not_record_since:
        lines += ["", f"on the do-not-record list since {day(found.do_not_record_since)}"]
    for fix in found.corrections:
        lines.append(
            f"call {fix.uniqueid}: caller number corrected from {fix.old_value} to "
            f"{fix.new_value} on {day(fix.changed_at)} by {fix.changed_by}"
        )
    return lines


def _request_line(request: RequestView) -> str:
    state = "OVERDUE" if request.overdue else request.status
    left = ""
    if request.days_left is not None:
        left = (
            f" ({-request.days_left} day(s) late)"
            if request.overdue
            else f" ({request.days_left} day(s) left)"
        )
    return (
        f"#{request.id:<5} {state:<8} {request.kind:<13} {request.number:<16} "
        f"due {day(request.due_at)}{left}  {request.requester}"
    )


def request_list(requests: Iterable[RequestView]) -> list[str]:
    """The request list, one line each, overdue first as the service ordered it."""
    lines = [_request_line(request) for request in requests]
    return lines or ["no requests"]


def request_detail(detail: RequestDetail) -> list[str]:
    """One request and its actions."""
    r = detail.request
    lines = [
        _request_line(r),
        f"  requester   {r.requester}",
        f"  received    {day(r.received_on)}, opened by {r.created_by}",
        f"  due         {day(r.due_at)}",
    ]
    if r.extended_at:
        lines.append(f"  extended    on {day(r.extended_at)}: {r.extension_reason}")
    if r.closed_at:
        lines.append(f"  closed      {day(r.closed_at)} ({r.status}): {r.notes}")
    lines.append("  actions:")
    lines += [
        f"    {when(a.at)}  {a.actor:<12} {a.action:<22} "
        f"{json.dumps(a.detail, ensure_ascii=False, sort_keys=True)}"
        for a in detail.actions
    ]
    return lines


def erasure(result: Erasure) -> list[str]:
    """What an erasure did, and what it left for later."""
    lines = [
        f"{result.number}: erased {len(result.erased)} call(s), deleted "
        f"{result.files_deleted} recording(s) ({result.files_missing} already gone)"
    ]
    for pending in result.pending:
        because = f"{pending.why} {', '.join(pending.cases)}".strip()
        lines.append(f"kept for now: call {pending.uniqueid} ({because}); erased when it ends")
    if result.do_not_record:
        lines.append(f"{result.number} is on the do-not-record list")
    if result.copies:
        lines.append(f"{len(result.copies)} copy(ies) of these recordings left callrec earlier:")
    for copy in result.copies:
        lines.append(f"  {copy_line(copy)}")
    return lines


def copy_line(copy: CopyView) -> str:
    """One registered copy, for people: when, which call, what, to whom, under what."""
    under = f"release {copy.release_id}" if copy.release_id is not None else ""
    under = under or (f"request {copy.request_id}" if copy.request_id is not None else "")
    return (
        f"{when(copy.made_at)}  call {copy.uniqueid}: {copy.kind} (SHA-256 {copy.sha256}) "
        f"to {copy.recipient}, {under}, by {copy.made_by}"
    )


def package(result: Package) -> list[str]:
    """Where the package went and what is in it (problems go to stderr separately)."""
    lines = [f"{result.folder}: {result.calls} call(s) of {result.number}"]
    lines += [f"{digest}  {name}" for name, digest in sorted(result.files.items())]
    if result.withheld:
        lines.append(f"{result.withheld} restricted call(s) left out")
    lines += [
        f"call {uniqueid}: not exportable without the agent's consent (no caller leg)"
        for uniqueid in result.without_consent
    ]
    return lines


def change(result: Change, uniqueid: str) -> list[str]:
    """One correction."""
    return [
        f"call {uniqueid}: {result.field} {result.old_value!r} -> {result.new_value!r} "
        f"by {result.changed_by} on {when(result.changed_at)}"
    ]


def history(result: History) -> list[str]:
    """A call's corrections, with the original values first."""
    if not result.changes:
        return [f"call {result.uniqueid}: never corrected"]
    lines = [f"call {result.uniqueid}: originally"]
    lines += [f"  {field} = {value!r}" for field, value in result.originals.items()]
    for c in result.changes:
        request = f" (request {c.request_id})" if c.request_id is not None else ""
        lines.append(
            f"{when(c.changed_at)}  {c.changed_by}: {c.field} {c.old_value!r} -> "
            f"{c.new_value!r}{request}: {c.reason}"
        )
    return lines


def restriction(result: Restriction, verb: str) -> list[str]:
    """Which calls a restrict or lift changed."""
    lines = [f"{verb}: {uniqueid}" for uniqueid in result.changed]
    lines += [f"unchanged (already so): {uniqueid}" for uniqueid in result.unchanged]
    return lines


def do_not_record(entries: Sequence[Entry]) -> list[str]:
    """The do-not-record list."""
    lines = [f"{e.number:<16} since {day(e.added_at)} by {e.added_by}: {e.reason}" for e in entries]
    return lines or ["the do-not-record list is empty"]
