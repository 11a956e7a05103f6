"""The JSON schemas of the internal API's answers, for its OpenAPI document
(`api_openapi.py`), written to match `records/documents.py` and the routes' bodies; the
schemathesis run over a live `voicehook web` checks every answer against them."""

from __future__ import annotations

from typing import Any

from records.jobs import JobStatus

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"


def ref(name: str) -> Schema:
    return {"$ref": REF.format(model=name)}


def nullable(kind: str) -> Schema:
    return {"type": [kind, "null"]}


def obj(properties: dict[str, Schema], **extra: Any) -> Schema:
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


TIME = nullable("string")
RESPONSE_SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        {"error": {"type": "string"}, "detail": {}},
        description="Every error under /api: a stable code and what went wrong.",
    ),
    "Attempt": obj(
        {
            "number": {"type": "integer"},
            "generationId": nullable("string"),
            "status": {"type": "string"},
            "error": nullable("string"),
            "intentAt": TIME,
            "submittedAt": TIME,
            "completedAt": TIME,
            "polls": {"type": "integer"},
            "lastPolledAt": TIME,
            "nextPollAt": TIME,
            "downloadFailures": {"type": "integer"},
        }
    ),
    "JobSummary": obj(
        {
            "id": {"type": "string"},
            "customerId": nullable("string"),
            "externalRef": nullable("string"),
            "metadata": nullable("object"),
            "tracked": {"type": "boolean"},
            "voiceId": nullable("string"),
            "format": {"type": "string"},
            "settings": {"type": "object"},
            "status": {"type": "string", "enum": [s.value for s in JobStatus]},
            "attemptsMade": {"type": "integer"},
            "maxAttempts": {"type": "integer"},
            "nextAttemptAt": TIME,
            "lastError": nullable("string"),
            "audio": {
                "oneOf": [
                    {"type": "null"},
                    obj(
                        {
                            "bytes": nullable("integer"),
                            "sha256": nullable("string"),
                            "durationSec": nullable("number"),
                        }
                    ),
                ]
            },
            "createdAt": {"type": "string"},
            "readyAt": TIME,
        }
    ),
    "Job": {
        "allOf": [
            ref("JobSummary"),
            obj({"attempts": {"type": "array", "items": ref("Attempt")}}),
        ]
    },
    "JobAccepted": obj(
        {
            "id": {"type": "string"},
            "status": {"type": "string"},
            "externalRef": nullable("string"),
        }
    ),
    "JobActionResult": obj(
        {
            "action": {"type": "string", "enum": ["retry", "resume"]},
            "jobs": {
                "type": "array",
                "items": obj(
                    {
                        "id": {"type": "string"},
                        "outcome": {"type": "string", "enum": ["done", "refused", "not_found"]},
                        "reason": nullable("string"),
                    }
                ),
            },
            "enqueued": {"type": "boolean"},
        }
    ),
    "Customer": obj(
        {
            "id": {"type": "string"},
            "externalRef": {"type": "string"},
            "name": {"type": "string"},
            "usage": obj(
                {
                    "audioSeconds": {"type": "number"},
                    "creditsSpent": {"type": "integer"},
                    "jobsReady": {"type": "integer"},
                    "jobsFailed": {"type": "integer"},
                }
            ),
            "createdAt": {"type": "string"},
            "updatedAt": {"type": "string"},
        }
    ),
    "CustomerCreated": obj(
        {"id": {"type": "string"}, "externalRef": {"type": "string"}, "name": {"type": "string"}}
    ),
    "Voice": obj(
        {
            "id": {"type": "string"},
            "customerId": nullable("string"),
            "name": nullable("string"),
            "status": {"type": "string"},
            "voiceId": nullable("string"),
            "cloneJobId": nullable("string"),
            "lastError": nullable("string"),
            "createdAt": {"type": "string"},
        }
    ),
    "VoiceAccepted": obj({"id": {"type": "string"}, "status": {"type": "string"}}),
}
