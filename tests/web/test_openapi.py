"""The API document: valid OpenAPI 3.1, every API route in it, every POST body described."""

from __future__ import annotations

from openapi_spec_validator import validate

from callrec_ari.access import Role
from callrec_ari.web.app import build_web_app
from callrec_ari.web.openapi import BODIES, document
from tests.web.conftest import sign_in


def api_routes(app) -> set[str]:
    found = set()
    for route in app.router.routes():
        info = route.get_info()
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/") and route.method != "HEAD":
            found.add(f"{route.method} {path}")
    return found


def test_the_document_is_valid_openapi(settings):
    """A client generator or schemathesis can read it."""
    validate(document(build_web_app(settings)))


def test_every_api_route_is_described(settings):
    """Each route with its summary; each POST with the fields it reads."""
    app = build_web_app(settings)
    spec = document(app)
    routes = api_routes(app)
    described = {
        f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
    }
    assert described == routes
    posts = {route for route in routes if route.startswith("POST ")}
    assert posts <= BODIES.keys(), f"describe the body of {sorted(posts - BODIES.keys())}"
    for ops in spec["paths"].values():
        for operation in ops.values():
            assert operation["summary"]


async def test_the_document_is_served_to_staff_only(client, person, clock):
    """GET /api/openapi.json answers 401 to anyone not signed in, the document to staff."""
    anonymous = await client.get("/api/openapi.json")
    assert anonymous.status == 401
    assert (await anonymous.json())["error_id"] == "not_signed_in"
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    body = await (await client.get("/api/openapi.json")).json()
    assert body["openapi"] == "3.1.0"
    assert "/api/calls" in body["paths"]


def test_lists_and_uploads_are_described_as_they_are(settings):
    """Roles are a JSON list; a prompt arrives as a multipart upload with a binary file."""
    spec = document(build_web_app(settings))
    roles = spec["paths"]["/api/admin/users"]["post"]["requestBody"]["content"]
    assert roles["application/json"]["schema"]["properties"]["roles"]["type"] == "array"
    upload = spec["paths"]["/api/admin/prompts"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"


def test_every_error_answer_is_described_with_its_stable_id(settings):
    """The Error schema has ``error`` and ``error_id``; each operation's errors refer to it."""
    spec = document(build_web_app(settings))
    schema = spec["components"]["schemas"]["Error"]
    assert schema["required"] == ["error", "error_id"]
    assert "not_found" in schema["properties"]["error_id"]["examples"]
    reference = {"$ref": "#/components/schemas/Error"}
    for ops in spec["paths"].values():
        for operation in ops.values():
            for status in ("400", "401", "403", "404", "500"):
                answer = operation["responses"][status]
                assert answer["content"]["application/json"]["schema"] == reference


def test_a_twin_handler_s_summary_is_its_whole_first_paragraph(settings):
    """A form and its JSON twin share a handler; the summary is not cut mid-sentence."""
    spec = document(build_web_app(settings))
    summary = spec["paths"]["/api/subjects/restrict"]["post"]["summary"]
    assert summary.startswith("Restrict one call, or every call of the number")
    assert summary.endswith(".")
