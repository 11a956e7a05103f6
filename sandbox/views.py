"""Resources as the API and the control API show them (camelCase JSON objects)."""

from __future__ import annotations

from sandbox.clock import iso_millis, iso_seconds
from sandbox.models import CloneJob, Generation, Voice, WebhookEndpoint, Workspace
from sandbox.progression import GenerationStatus
from sandbox.webhooks import Delivery

Json = dict[str, object]


def generation_view(generation: Generation, download_url: str | None) -> Json:
    """`GET /v1/generations/:id`, and the `data` of `generation.*` events."""
    view: Json = {
        "id": generation.id,
        "status": generation.status.value,
        "durationSec": generation.duration_sec
        if generation.status is GenerationStatus.READY
        else None,
        "downloadUrl": download_url,
        "createdAt": iso_seconds(generation.created_at),
        "completedAt": iso_seconds(generation.completed_at) if generation.completed_at else None,
    }
    if generation.status is GenerationStatus.FAILED:
        view["error"] = generation.error
    return view


def generation_detail(generation: Generation, download_url: str | None) -> Json:
    """The control API's view: the public one plus what the sandbox knows about it."""
    return {
        **generation_view(generation, download_url),
        "workspaceId": generation.workspace_id,
        "voiceId": generation.order.voice.id,
        "format": generation.order.format,
        "script": generation.order.script,
        "credits": generation.order.credits,
        "sizeBytes": generation.size_bytes,
    }


def voice_view(voice: Voice) -> Json:
    """An item of `GET /v1/voices`, and the `data` of `voice.cloned`."""
    return {
        "id": voice.id,
        "name": voice.name,
        "kind": voice.kind,
        "language": voice.language,
        "cloneJobId": voice.clone_job_id,
        "createdAt": iso_seconds(voice.created_at),
    }


def clone_job_view(job: CloneJob) -> Json:
    return {"id": job.id, "status": "ready" if job.voice_id else "queued"}


def workspace_view(workspace: Workspace, in_window: int) -> Json:
    return {
        "id": workspace.id,
        "name": workspace.name,
        "plan": workspace.plan.value,
        "credits": workspace.credits,
        "apiKeys": list(workspace.api_keys),
        "requests": {
            "served": workspace.requests_served,
            "rateLimited": workspace.requests_rate_limited,
            "inCurrentWindow": in_window,
        },
    }


def endpoint_view(endpoint: WebhookEndpoint) -> Json:
    return {
        "id": endpoint.id,
        "workspaceId": endpoint.workspace_id,
        "url": endpoint.url,
        "secret": endpoint.secret,
    }


def delivery_view(delivery: Delivery) -> Json:
    return {
        "id": delivery.id,
        "event": delivery.event,
        "resourceId": delivery.resource_id,
        "endpointId": delivery.endpoint.id,
        "url": delivery.endpoint.url,
        "state": delivery.state.value,
        "duplicateOf": delivery.duplicate_of,
        "delayed": delivery.delayed,
        "reordered": delivery.reordered,
        "createdAt": iso_millis(delivery.created_at),
        "signature": delivery.signature,
        "body": delivery.body.decode(),
        "attempts": [
            {
                "number": attempt.number,
                "startedAt": iso_millis(attempt.started_at),
                "finishedAt": iso_millis(attempt.finished_at) if attempt.finished_at else None,
                "statusCode": attempt.status_code,
                "error": attempt.error,
            }
            for attempt in delivery.attempts
        ],
    }
