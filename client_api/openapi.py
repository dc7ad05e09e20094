"""The OpenAPI document says what the API answers: one error shape, and every error status documented."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

# What each field means where its schema does not say, and one example per schema recorded from a
# real client session (tests/client_api/test_openapi_docs.py refreshes it and checks both).
FIELD_NOTES_PATH = Path(__file__).with_name("openapi_fields.toml")
EXAMPLES_PATH = Path(__file__).with_name("openapi_examples.json")

ERROR_STATUSES = {
    "400": "The request cannot be read.",
    "401": "Missing, invalid, expired or revoked access token, or wrong credentials.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Nothing by that id for this client (malformed ids included).",
    "409": "Conflicts with the current state (a used invitation, a replayed Idempotency-Key with another body).",
    "413": "The body is too large.",
    "422": "The input breaks a rule: detail says which field and why, never what was sent.",
    "429": "Too many attempts: wait for Retry-After seconds.",
    "503": "The service is busy: try again shortly.",
}

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/ErrorItem"}},
            ],
            "description": "A sentence in the client's language, or for malformed input one item per field in error.",
        }
    },
    "example": {"detail": "this invitation code is not valid; ask your clinic for a new one"},
}
ERROR_ITEM_SCHEMA: dict[str, Any] = {
    "title": "ErrorItem",
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "example": {"loc": ["body", "mood"], "msg": "Input should be less than or equal to 10", "type": "less_than_equal"},
}


def install(api: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            api.openapi_schema = _with_field_notes(_with_errors(document))
        return api.openapi_schema

    api.openapi = build  # type: ignore[method-assign]


def _with_errors(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["ErrorItem"] = ERROR_ITEM_SCHEMA
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = {"description": description, **error}
            responses["429"]["headers"] = {
                "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
            }
    return document


def _with_field_notes(document: dict[str, Any]) -> dict[str, Any]:
    """Descriptions and examples from the files beside this module; what a schema says itself wins."""
    with FIELD_NOTES_PATH.open("rb") as source:
        notes: dict[str, dict[str, str]] = tomllib.load(source)
    examples: dict[str, Any] = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        for field, spec in schema.get("properties", {}).items():
            note = notes.get(name, {}).get(field)
            if note and not spec.get("description"):
                spec["description"] = note
        if "example" not in schema and name in examples:
            schema["example"] = examples[name]
    return document
