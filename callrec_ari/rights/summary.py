"""The readable part of an export package: ``calls.json``, ``summary.txt`` and ``summary.html``.

Pure rendering of a ``Contents`` value; the export module writes the results to files.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.rights.subject import CallSummary

# What the person sees of each call; internal paths and hold case references stay inside.
_HIDDEN = frozenset({"recording_path", "legal_holds", "restriction_reason"})


@dataclass(frozen=True, kw_only=True)
class Item:
    """One call in the package: its metadata, its file if copied, and what went wrong if not."""

    call: CallSummary
    file: str | None  # path inside the package
    problem: str | None
    corrections: tuple[dict[str, str | None], ...]  # field, old_value, new_value, changed_at
    agents: tuple[AgentLeg, ...] = ()  # who spoke for the organisation, from when to when


@dataclass(frozen=True, kw_only=True)
class Contents:
    """Everything the summaries say."""

    number: str
    generated_at: datetime
    generated_by: str
    request_id: int | None
    items: tuple[Item, ...]
    withheld: int  # restricted calls left out: the exporting person may not release them


def calls_json(contents: Contents) -> str:
    """The machine-readable summary (GDPR Art. 20: structured, commonly used format)."""
    calls = []
    for item in contents.items:
        data = {k: v for k, v in item.call.to_json().items() if k not in _HIDDEN}
        data["restricted"] = item.call.restricted
        data["file"] = item.file
        data["file_problem"] = item.problem
        data["corrections"] = list(item.corrections)
        data["agents"] = [
            {k: v for k, v in leg.to_json().items() if k != "channel_id"} for leg in item.agents
        ]
        calls.append(data)
    document: dict[str, Any] = {
        "number": contents.number,
        "generated_at": contents.generated_at.isoformat(),
        "generated_by": contents.generated_by,
        "request_id": contents.request_id,
        "calls": calls,
        "withheld_restricted_calls": contents.withheld,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def summary_text(contents: Contents) -> str:
    """The summary as plain text."""
    return _environment().get_template("summary.txt").render(c=contents)


def summary_html(contents: Contents) -> str:
    """The summary as one self-contained HTML page (every value escaped)."""
    return _environment().get_template("summary.html").render(c=contents)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "-"


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=DictLoader({"summary.txt": _TEXT, "summary.html": _HTML}),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["when"] = _when
    environment.filters["day"] = _day
    return environment


_TEXT = """\
Recorded calls from {{ c.number }}
Prepared {{ c.generated_at | when }} by {{ c.generated_by }}\
{% if c.request_id is not none %} for request {{ c.request_id }}{% endif %}.

{{ c.items | length }} call(s) are included. Each recording is in recordings/; SHA256SUMS
holds the SHA-256 of every file (check with: sha256sum -c SHA256SUMS). calls.json has the
same information for computers.
{% if c.withheld %}

{{ c.withheld }} restricted call(s) are not in this package: their processing is restricted
and only the data-protection officer may release them.
{% endif %}
{% for item in c.items %}

Call {{ item.call.uniqueid }}
  started     {{ item.call.started_at | when }}
  ended       {{ item.call.ended_at | when }}
  from        {{ item.call.caller_number or "-" }}
  to          {{ item.call.dialled_number }}
  answered by {{ item.call.agent or "-" }}
{% for leg in item.agents %}
  spoke       {{ leg.agent }} from {{ leg.joined_at | when }} to {{ leg.left_at | when }}
{% endfor %}
  consent     {{ item.call.consent }}
  recording   {{ item.file or "none" }}\
{% if item.call.duration_seconds %} ({{ "%.1f" | format(item.call.duration_seconds) }} s){% endif %}

{% if item.call.sha256 %}
  SHA-256     {{ item.call.sha256 }}
{% endif %}
{% if item.problem %}
  PROBLEM     {{ item.problem }}
{% endif %}
{% if item.call.restricted %}
  restricted  since {{ item.call.restricted_at | day }}
{% endif %}
{% if item.call.erasure_requested_at %}
  erasure     asked for on {{ item.call.erasure_requested_at | day }}; \
kept for now, deleted as soon as the law allows
{% endif %}
{% if item.call.delete_after %}
  deleted by  {{ item.call.delete_after | day }} ({{ item.call.retention_policy }})
{% endif %}
{% for fix in item.corrections %}
  corrected   {{ fix.field }}: {{ fix.old_value }} -> {{ fix.new_value }} on {{ fix.changed_at }}
{% endfor %}
{% endfor %}
"""

_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Recorded calls from {{ c.number }}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #999; padding: .3em .6em; text-align: left; vertical-align: top; }
.problem { color: #a00; }
code { font-size: .8em; }
</style>
</head>
<body>
<h1>Recorded calls from {{ c.number }}</h1>
<p>Prepared {{ c.generated_at | when }} by {{ c.generated_by }}\
{% if c.request_id is not none %} for request {{ c.request_id }}{% endif %}.
{{ c.items | length }} call(s) are included. Each recording is in <code>recordings/</code>;
<code>SHA256SUMS</code> holds the SHA-256 of every file
(check with <code>sha256sum -c SHA256SUMS</code>).</p>
{% if c.withheld %}
<p><strong>{{ c.withheld }} restricted call(s) are not in this package:</strong> their
processing is restricted and only the data-protection officer may release them.</p>
{% endif %}
<table>
<tr><th>call</th><th>started</th><th>ended</th><th>from</th><th>to</th><th>answered by</th>
<th>consent</th><th>recording</th><th>notes</th></tr>
{% for item in c.items %}
<tr>
<td>{{ item.call.uniqueid }}</td>
<td>{{ item.call.started_at | when }}</td>
<td>{{ item.call.ended_at | when }}</td>
<td>{{ item.call.caller_number or "" }}</td>
<td>{{ item.call.dialled_number }}</td>
<td>{{ item.call.agent or "" }}</td>
<td>{{ item.call.consent }}</td>
<td>{% if item.file %}<a href="{{ item.file }}">{{ item.file }}</a><br>\
<code>{{ item.call.sha256 }}</code>{% else %}none{% endif %}</td>
<td>
{% if item.problem %}<span class="problem">{{ item.problem }}</span><br>{% endif %}
{% for leg in item.agents %}{{ leg.agent }} spoke from {{ leg.joined_at | when }} \
to {{ leg.left_at | when }}<br>{% endfor %}
{% if item.call.restricted %}restricted since \
{{ item.call.restricted_at | day }}<br>{% endif %}
{% if item.call.erasure_requested_at %}erasure asked for on \
{{ item.call.erasure_requested_at | day }}; kept for now, deleted as soon as \
the law allows<br>\
{% endif %}
{% if item.call.delete_after %}deleted by {{ item.call.delete_after | day }}\
<br>{% endif %}
{% for fix in item.corrections %}corrected {{ fix.field }}: {{ fix.old_value }} &rarr; \
{{ fix.new_value }} on {{ fix.changed_at }}<br>{% endfor %}
</td>
</tr>
{% endfor %}
</table>
</body>
</html>
"""
