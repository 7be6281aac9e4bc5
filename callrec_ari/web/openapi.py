"""The JSON API described as OpenAPI 3.1, built from the routes themselves.

Every ``/api/`` route is in the document by construction: its summary is the first paragraph
of the handler's docstring, its path parameters come from the route, and the request bodies
and query parameters we accept are listed here. Served at ``GET /api/openapi.json``.

Only to someone signed in (401 ``not_signed_in`` otherwise). The document lists every
action, parameter and error id of the API: a map for anyone probing the service, and of no
use to staff before they sign in (the same holds for any role: everything it describes
needs a signed-in account anyway). Client generators can fetch it with a session cookie, or
read it from ``document()`` in a test or a script.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from aiohttp import web

from callrec_ari.web.request import signed_in

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TEXT = {"type": "string"}

# Query parameters of the searches and lists.
QUERIES: dict[str, list[str]] = {
    "GET /api/calls": ["since", "until", "number", "agent", "consent", "held", "node", "cursor"],
    "GET /api/releases": ["status"],
    "GET /api/holds": ["all"],
    "GET /api/requests": ["all"],
    "GET /api/subjects": ["number", "cursor"],
    "GET /api/audit": ["since", "until", "actor", "action", "before"],
    "GET /api/admin/grants": ["all"],
}
# Request bodies: property -> description; all are JSON objects of strings.
BODIES: dict[str, dict[str, str]] = {
    "POST /api/calls/{uniqueid}/listen": {
        "reason": "why the recording is needed (at least [web] reason_min_length characters)",
        "category": "quality, complaint, dispute, legal, data_subject or training",
    },
    "POST /api/calls/{uniqueid}/releases": {
        "recipient": "who receives the copy",
        "legal_ground": "the legal ground for giving it (at least 10 characters)",
    },
    "POST /api/releases/{release_id}/decision": {
        "decision": "approve or refuse",
        "note": "why (required for a refusal)",
    },
    "POST /api/holds": {
        "number": "the caller's number, any format",
        "from": "first day (ISO date or time)",
        "to": "last day (ISO date; included)",
        "case_reference": "the case the hold is for",
        "reason": "why the calls must be kept",
        "ends_at": "optional: the day the hold ends by itself",
    },
    "POST /api/calls/{uniqueid}/holds": {
        "case_reference": "the case the hold is for",
        "reason": "why the call must be kept",
        "ends_at": "optional: the day the hold ends by itself",
    },
    "POST /api/holds/{hold_id}/release": {"reason": "why the hold ends"},
    "POST /api/calls/{uniqueid}/training": {
        "topic": "what the call teaches (at most 200 characters; never personal data)",
        "spans": "optional: spans to silence in both voices, e.g. 12.5-15, 1:05-1:10",
        "caller": "the caller's voice: disguise (default) or remove",
    },
    "POST /api/training/{copy_id}/delete": {},
    "POST /api/requests": {
        "kind": "access, rectification, erasure, withdrawal, restriction, portability or objection",
        "number": "the person's phone number, any format",
        "requester": "who asked, and how to answer them",
        "received": "optional: the day it arrived (ISO date; default today)",
    },
    "POST /api/requests/{request_id}/extend": {"reason": "why the deadline is extended"},
    "POST /api/requests/{request_id}/close": {
        "outcome": "done or rejected",
        "note": "the answer given (the reasons, if rejected)",
    },
    "POST /api/do-not-record": {
        "number": "the phone number, any format",
        "reason": "why it must not be recorded",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/do-not-record/remove": {
        "number": "the phone number, any format",
        "reason": "why it may be recorded again",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/subjects/export": {
        "number": "the person's phone number; the answer is the zip",
        "request": "required: the open access or portability request of that number it answers",
        "agent_consent_agent": "optional: the agent (as calls store it) who consented to a copy"
        " of the mix; without it each call goes out as the caller's own leg",
        "agent_consent_on": "with agent_consent_agent: when the agent consented",
        "agent_consent_how": "with agent_consent_agent: how the consent was given",
    },
    "POST /api/subjects/erase": {
        "number": "the person's phone number, any format",
        "reason": "optional: why",
        "do_not_record": "true to never record the number again",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/subjects/restrict": {
        "number": "the phone number whose calls are restricted",
        "uniqueid": "optional: only this call",
        "reason": "why",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/subjects/lift": {
        "number": "the phone number whose calls are released",
        "uniqueid": "optional: only this call",
        "reason": "why",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/subjects/rectify": {
        "uniqueid": "the call to correct",
        "field": "caller_number, agent or dialled_number",
        "value": "the correct value",
        "reason": "why",
        "request": "optional: the number of the open request this answers",
    },
    "POST /api/audit/export": {
        "format": "jsonl or csv; the answer is the file",
        "since": "optional: from this day or time (ISO)",
        "until": "optional: up to this day (included) or time",
    },
    "POST /api/admin/users": {
        "username": "2 to 64 of a-z, 0-9, '.', '_' and '-'",
        "display_name": "the person's name",
        "roles": "a JSON list of agent, supervisor, dpo, director, admin and trainer",
        "extension": "optional: the extension whose calls an agent sees",
        "language": "en, pl, sv, fi or ro",
        "password": "the initial password",
    },
    "POST /api/admin/users/{user_id}/roles": {
        "roles": "a JSON list of agent, supervisor, dpo, director, admin and trainer; admin, dpo "
        "and director new to the account wait in /api/admin/grants for a second admin",
    },
    "POST /api/admin/users/{user_id}/extension": {"extension": "the extension; empty for none"},
    "POST /api/admin/users/{user_id}/two-factor-exempt": {
        "exempt": "true (asks for it: a second admin approves it) or false (ends it at once)"
    },
    "POST /api/admin/grants/{grant_id}/approve": {},
    "POST /api/admin/grants/{grant_id}/refuse": {},
    "POST /api/admin/users/{user_id}/two-factor-reset": {},
    "POST /api/admin/users/{user_id}/unlock": {},
    "POST /api/admin/users/{user_id}/password": {"password": "the new password"},
    "POST /api/admin/users/{user_id}/disabled": {"disabled": "true or false"},
    "POST /api/admin/settings/policies": {
        "name": "the policy's name (letters, digits, . _ -)",
        "days": "how many days recordings under it are kept (1 to 3660)",
        "months": "instead of days: how many calendar months (1 to 120)",
    },
    "POST /api/admin/settings/profile": {
        "controller_name": "the controller's name",
        "controller_address": "the controller's postal address",
        "dpo_contact": "the data-protection officer: name or role, e-mail or telephone",
        "notice_url": "where the full privacy notice is published (https://...)",
        "supervisory_authority": "the authority callers may complain to, with its address",
    },
    "POST /api/admin/settings/processing": {
        "did": "the dialled number (it needs a route); * or empty for the default",
        "purposes": "service_quality, evidence, staff_safety, complaints, training, "
        "legal_obligation (comma-separated)",
        "purpose_text": "free text beside the purposes, shown in the notice",
        "legal_basis": "consent, contract, legal_obligation, public_task or legitimate_interests",
        "recipients": "who receives recordings besides authorised staff; empty: nobody",
        "storage_country": "where recordings are stored: a two-letter country code",
        "transfers": "transfers outside the EU/EEA and their safeguard; empty: none",
    },
    "POST /api/admin/settings/processing/remove": {
        "did": "the dialled number whose own processing ends (* for the default)",
    },
    "POST /api/admin/settings/routes": {
        "did": "the dialled number; * or empty for every other number",
        "languages": "languages played in order, comma-separated (e.g. fi,sv)",
        "prompt": "the announcement's name (default: announcement)",
        "retention": "the retention policy's name",
        "on_decline": "connect (unrecorded) or hangup",
    },
    "POST /api/admin/settings/routes/remove": {
        "did": "the dialled number whose own route ends (* for the default route)",
    },
    "POST /api/admin/prompts": {
        "language": "one of the routes' languages",
        "prompt": "the prompt's name, e.g. announcement",
        "file": "the audio: WAV, MP3 or OGG",
    },
}


# Bodies that are not JSON objects of strings: the field's schema, or the media type.
LISTS = frozenset({"roles"})
MULTIPART = frozenset({"POST /api/admin/prompts"})
_BINARY_FIELDS = frozenset({"file"})


def _property(name: str, text: str) -> dict[str, Any]:
    if name in LISTS:
        return {"type": "array", "items": {"type": "string"}, "description": text}
    if name in _BINARY_FIELDS:
        return {"type": "string", "format": "binary", "description": text}
    return {"type": "string", "description": text}


# Every error answer has this shape (web/errors.py); error_id is stable, the sentence is not.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_id"],
    "properties": {
        "error": {"type": "string", "description": "one sentence naming what is wrong"},
        "error_id": {
            "type": "string",
            "description": "stable, for programs to branch on (the table is in "
            "callrec_ari/errors.py); a class of errors may grow a more specific id",
            "examples": [
                "invalid_input",
                "invalid_number",
                "not_signed_in",
                "forbidden",
                "csrf_refused",
                "not_found",
                "recording_problem",
                "internal",
            ],
        },
    },
}
_ERRORS = {
    "400": "bad input (invalid_input, invalid_number, ...)",
    "401": "not signed in (not_signed_in)",
    "403": "the roles do not allow it (forbidden), or the CSRF check failed (csrf_refused)",
    "404": "no such thing, or not yours to see (not_found)",
    "500": "a fault of ours, logged (internal)",
}
_CONFLICT = "nothing was changed: a stored recording needs a person (recording_problem)"


def _error(text: str) -> dict[str, Any]:
    return {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _summary(doc: str) -> str:
    """The docstring's first paragraph, on one line."""
    return " ".join(doc.split("\n\n", maxsplit=1)[0].split())


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    key = f"{method} {path}"
    doc = inspect.getdoc(handler) or path
    operation: dict[str, Any] = {
        "summary": _summary(doc),
        "responses": {
            "200": {"description": "done", "content": {"application/json": {}}},
            **{status: _error(text) for status, text in _ERRORS.items()},
        },
    }
    if method != "GET":
        operation["responses"]["201"] = {"description": "created"}
        operation["responses"]["409"] = _error(_CONFLICT)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _TEXT}
        for name in _PLACEHOLDER.findall(path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": _TEXT}
        for name in QUERIES.get(key, [])
    ]
    if method != "GET":
        parameters.append(
            {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": _TEXT}
        )
    if parameters:
        operation["parameters"] = parameters
    body = BODIES.get(key)
    if body is not None:
        media = "multipart/form-data" if key in MULTIPART else "application/json"
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {
                    "schema": {
                        "type": "object",
                        "properties": {name: _property(name, text) for name, text in body.items()},
                    }
                }
            },
        }
    return operation


def document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of every ``/api/`` route of ``app``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        info = route.get_info()
        path = info.get("path") or info.get("formatter")
        if not isinstance(path, str) or not path.startswith("/api/") or route.method == "HEAD":
            continue
        paths.setdefault(path, {})[route.method.lower()] = _operation(
            route.method, path, route.handler
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callrec staff API",
            "version": "1",
            "description": "The staff web app's JSON API. Sign in through /login (password "
            "and TOTP) first: the API uses the same session cookie, and every POST needs the "
            "session's CSRF token in the X-CSRF-Token header. Every error answers "
            '{"error": "<one sentence>", "error_id": "<stable id>"} with its HTTP status.',
        },
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "callrec_session"}
            },
        },
        "security": [{"session": []}],
        "paths": dict(sorted(paths.items())),
    }


async def openapi_json(request: web.Request) -> web.StreamResponse:
    """This document, for someone signed in."""
    signed_in(request)
    return web.json_response(document(request.app))
