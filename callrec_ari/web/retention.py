"""The retention report in the web app, for the dpo: is anything kept past its date?

The same report as ``callrec retention report`` (``lifecycle/report_query.py``), with the
admin's policies applied as the purge applies them; each reading is recorded in the audit
trail as ``retention.report``.
"""

from __future__ import annotations

from aiohttp import web

from callrec_ari.access import may_read_audit
from callrec_ari.lifecycle.report import RetentionReport, default_grace, report_json
from callrec_ari.lifecycle.report_query import read_report
from callrec_ari.routing import store as routing
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, page

routes = web.RouteTableDef()


async def _report(request: web.Request) -> RetentionReport:
    # The dpo oversees retention as they oversee the trail; no other role sees this page.
    account = allowed(request, may_read_audit)
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as db:
        retention = (await routing.effective(db, settings)).retention
    return await read_report(
        request.app[SESSIONS],
        retention=retention,
        now=request.app[CLOCK](),
        grace=default_grace(settings.lifecycle),
        actor=account.actor.name,
        client=client_of(request),
    )


@routes.get("/retention")
async def retention_page(request: web.Request) -> web.StreamResponse:
    """Overdue calls and erasures, the oldest kept call per policy, holds and restrictions."""
    report = await _report(request)
    grace_hours = f"{report.grace.total_seconds() / 3600:g}"
    return await page(request, "retention.html", {"report": report, "grace_hours": grace_hours})


@routes.get("/api/retention/report")
async def retention_api(request: web.Request) -> web.StreamResponse:
    """The retention report as JSON."""
    return web.json_response(report_json(await _report(request)))
