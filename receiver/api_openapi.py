"""The internal API's OpenAPI 3.1 document, served at `GET /api/openapi.json`.

Request bodies are the pydantic models the routes validate with, so they cannot drift; the
answers' schemas are in `api_schemas.py`. Both are kept true by the schemathesis run over a
live `voicehook web` (tests/receiver/test_openapi_live.py).
"""

from __future__ import annotations

from pydantic.json_schema import models_json_schema

from receiver.api_schemas import REF, RESPONSE_SCHEMAS, Schema, nullable, obj, ref
from receiver.job_requests import CloneRequest, CustomerRequest, JobRequest
from receiver.list_params import MAX_CURSOR_LENGTH, MAX_FILTER_LENGTH, MAX_LIMIT
from records.idempotency_tables import MAX_KEY_LENGTH
from records.jobs import JobStatus

ERRORS = {
    "400": "Not valid (`invalid_request`, `invalid_parameter`, `invalid_idempotency_key`).",
    "401": "No or a wrong bearer token (`unauthorized`).",
    "404": "No such resource (`not_found`).",
    "409": "The resource's state does not allow it.",
    "413": "The body is larger than allowed (`payload_too_large`).",
    "422": "The Idempotency-Key was used with another body (`idempotency_key_reused`).",
    "503": "No database (`unavailable`), or ADMIN_TOKEN unset (`admin_api_disabled`).",
}
LOCATION = {"Location": {"description": "The resource's URL.", "schema": {"type": "string"}}}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with this key.",
        "schema": {"type": "string"},
    }
}


def json_body(schema: Schema, description: str, headers: Schema | None = None) -> Schema:
    answer: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def errors(*codes: str) -> dict[str, Schema]:
    return {code: json_body(ref("Error"), ERRORS[code]) for code in ("401", "503", *codes)}


def page_of(item: str) -> Schema:
    return obj({"items": {"type": "array", "items": ref(item)}, "nextCursor": nullable("string")})


def query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


LIST_PARAMETERS = [
    query(
        "cursor",
        {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
        "`nextCursor` of the page before.",
    ),
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
        "Rows per page.",
    ),
]
CUSTOMER_FILTER = query(
    "customer",
    {"type": "string", "minLength": 1, "maxLength": MAX_FILTER_LENGTH},
    "Only this customer's (its id or externalRef).",
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"},
    "description": "Same key and body within 24 h: the first answer again; another body: 422.",
}


def creating(body: str, answers: dict[str, Schema], *codes: str, summary: str) -> Schema:
    return {
        "summary": summary,
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref(body)}}},
        "responses": {**answers, **errors("400", "413", "422", *codes)},
    }


def listing(item: str, summary: str, *parameters: Schema) -> Schema:
    return {
        "summary": summary,
        "parameters": [*parameters, *LIST_PARAMETERS],
        "responses": {"200": json_body(page_of(item), "A page, newest first."), **errors("400")},
    }


def reading(name: str, parameter: str, summary: str) -> Schema:
    return {
        "summary": summary,
        "parameters": [path(parameter)],
        "responses": {"200": json_body(ref(name), summary), **errors("404")},
    }


def job_action(verb: str, summary: str) -> Schema:
    return {
        "summary": summary,
        "parameters": [path("job_id")],
        "responses": {
            "202": json_body(
                ref("JobActionResult"), f"The job was {verb}d and enqueued.", LOCATION
            ),
            **errors("404", "409"),
        },
    }


AUDIO = {
    "summary": "The job's audio (the file, a Range of it, or a redirect to a presigned link).",
    "parameters": [
        path("job_id"),
        query(
            "redirect", {"type": "string", "enum": ["true", "false"]}, "`false`: stream it through."
        ),
    ],
    "responses": {
        "200": {
            "description": "The audio.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("audio/mpeg", "audio/wav", "application/octet-stream")
            },
        },
        "206": {"description": "The requested byte range."},
        "307": {"description": "A presigned link to the audio in the bucket.", "headers": LOCATION},
        "410": json_body(ref("Error"), "Retention deleted this audio (`audio_pruned`)."),
        "416": {"description": "The range is past the end."},
        **errors("404", "409"),
    },
}


def paths() -> dict[str, Schema]:
    accepted_job = json_body(
        ref("JobAccepted"), "Accepted; the workers submit it.", {**LOCATION, **REPLAYED}
    )
    return {
        "/api/openapi.json": {
            "get": {
                "summary": "This document.",
                "security": [],
                "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1.")},
            }
        },
        "/api/docs": {
            "get": {
                "summary": "This document as a page (no external assets).",
                "security": [],
                "responses": {
                    "200": {
                        "description": "HTML.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/customers": {
            "post": creating(
                "CustomerRequest",
                {
                    "201": json_body(ref("CustomerCreated"), "Created.", {**LOCATION, **REPLAYED}),
                    "200": json_body(
                        ref("CustomerCreated"),
                        "A customer with this externalRef exists.",
                        {**LOCATION, **REPLAYED},
                    ),
                },
                summary="Create a customer (or find the one with this externalRef).",
            ),
            "get": listing("Customer", "Customers with their usage."),
        },
        "/api/customers/{customer_id}": {
            "get": reading("Customer", "customer_id", "A customer with its usage.")
        },
        "/api/jobs": {
            "post": creating(
                "JobRequest",
                {"202": accepted_job},
                "404",
                "409",
                summary="Accept a job; 409 `duplicate_external_ref` names the job (`jobId`).",
            ),
            "get": listing(
                "JobSummary",
                "Jobs, newest first.",
                CUSTOMER_FILTER,
                query(
                    "status",
                    {"type": "string", "enum": [s.value for s in JobStatus]},
                    "Only jobs in this status.",
                ),
                query(
                    "since",
                    {"type": "string", "format": "date-time"},
                    "Only jobs created at or after.",
                ),
            ),
        },
        "/api/jobs/{job_id}": {
            "get": reading("Job", "job_id", "A job with its attempts and audio facts.")
        },
        "/api/jobs/{job_id}/audio": {"get": AUDIO},
        "/api/jobs/{job_id}/retry": {
            "post": job_action("retrie", "A failed job gets one new attempt.")
        },
        "/api/jobs/{job_id}/resume": {
            "post": job_action("resume", "A blocked job goes back to pending.")
        },
        "/api/voices": {"get": listing("Voice", "Cloned voices, newest first.", CUSTOMER_FILTER)},
        "/api/voices/clone": {
            "post": creating(
                "CloneRequest",
                {
                    "202": json_body(
                        ref("VoiceAccepted"),
                        "Accepted; the workers clone it.",
                        {**LOCATION, **REPLAYED},
                    )
                },
                "404",
                summary="Clone a voice from samples.",
            )
        },
        "/api/voices/{voice_id}": {"get": reading("Voice", "voice_id", "A cloned voice.")},
    }


def openapi_document() -> Schema:
    """The whole document, built once at start-up."""
    _, request_schemas = models_json_schema(
        [(model, "validation") for model in (CustomerRequest, JobRequest, CloneRequest)],
        by_alias=True,
        ref_template=REF,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "voicehook internal API",
            "version": "1",
            "description": "The business's app: customers, jobs, voices. Bearer ADMIN_TOKEN.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**request_schemas.get("$defs", {}), **RESPONSE_SCHEMAS},
        },
    }
