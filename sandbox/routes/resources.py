"""The control API's shortcuts to resources and events: `/sandbox/generations` makes a
generation outside the API (any duration, any outcome), `/sandbox/trigger` sends one event."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import NotFound
from sandbox.models import Generation, GenerationOrder, Voice, Workspace
from sandbox.routes.common import json_response, sandbox_of
from sandbox.routes.control import find_workspace
from sandbox.runtime import Sandbox
from sandbox.schemas import EventName, GenerationCreate, Outcome, TriggerRequest, parse_body
from sandbox.views import generation_detail, generation_view, voice_view
from sandbox.voices import DEFAULT_VOICE
from sandbox.webhooks import Delivery

TRIGGER_SCRIPT = "This generation was made by voicehook trigger."


def _voice(sandbox: Sandbox, workspace: Workspace, voice_id: str | None) -> Voice:
    if voice_id is None:
        return DEFAULT_VOICE
    voice = sandbox.state.voice_for(workspace.id, voice_id)
    if voice is None:
        raise NotFound("no voice with that voiceId in this workspace")
    return voice


async def _make_generation(
    sandbox: Sandbox, workspace: Workspace, body: GenerationCreate
) -> Generation:
    order = GenerationOrder(
        voice=_voice(sandbox, workspace, body.voice_id),
        script=body.script,
        format=body.format,
        forced_duration=body.duration_sec,
        notify=body.notify,
    )
    if body.outcome == "failed":
        return sandbox.lifecycle.fail_generation_now(workspace, order, body.error)
    if body.outcome == "progress":
        return sandbox.lifecycle.submit_generation(workspace, order)
    return await sandbox.lifecycle.complete_generation_now(workspace, order)


async def create_generation(request: Request) -> Response:
    """A generation that is ready (rendered now), failed, or progressing on the clock."""
    sandbox = sandbox_of(request)
    body = parse_body(GenerationCreate, await request.body() or b"{}")
    workspace = find_workspace(sandbox, body.workspace_id)
    generation = await _make_generation(sandbox, workspace, body)
    link = sandbox.lifecycle.download_url(generation)
    return json_response(generation_detail(generation, link), status_code=201)


async def get_generation(request: Request) -> Response:
    """Any workspace's generation, outside the rate limit (for tests and benchmarks)."""
    sandbox = sandbox_of(request)
    generation = sandbox.state.generations.get(request.path_params["generation_id"])
    if generation is None:
        raise NotFound()
    link = sandbox.lifecycle.download_url(generation)
    return json_response(generation_detail(generation, link))


async def list_generations(request: Request) -> Response:
    """Every generation the sandbox has made, in every workspace, as the control API shows
    one (what a test counts against what the service recorded)."""
    sandbox = sandbox_of(request)
    items = [
        generation_detail(generation, sandbox.lifecycle.download_url(generation))
        for generation in sandbox.state.generations.values()
    ]
    return json_response({"items": items})


async def trigger(request: Request) -> Response:
    """Send one event: for the resource `id` as it is now, or for a freshly made one."""
    sandbox = sandbox_of(request)
    body = parse_body(TriggerRequest, await request.body())
    workspace = find_workspace(sandbox, body.workspace_id)
    if body.id is not None:
        fallback, deliveries = _resend(sandbox, body.event, body.id)
    elif body.event == "voice.cloned":
        voice = sandbox.lifecycle.clone_now(workspace, "Triggered voice", "en")
        fallback = voice_view(voice)
        deliveries = sandbox.dispatcher.deliveries(event=body.event, resource_id=voice.id)
    else:
        outcome: Outcome = "ready" if body.event == "generation.ready" else "failed"
        generation = await _make_generation(
            sandbox, workspace, GenerationCreate(script=TRIGGER_SCRIPT, outcome=outcome)
        )
        fallback = generation_view(generation, sandbox.lifecycle.download_url(generation))
        deliveries = sandbox.dispatcher.deliveries(event=body.event, resource_id=generation.id)
    sent = orjson.loads(deliveries[0].body)["data"] if deliveries else fallback
    return json_response(
        {
            "event": body.event,
            "data": sent,
            "deliveries": [
                {"id": d.id, "endpointId": d.endpoint.id, "url": d.endpoint.url} for d in deliveries
            ],
        },
        status_code=202,
    )


def _resend(
    sandbox: Sandbox, event: EventName, resource_id: str
) -> tuple[dict[str, object], list[Delivery]]:
    """Send `event` for an existing resource, whatever its state (tests want odd cases too)."""
    if event == "voice.cloned":
        voice = sandbox.state.cloned_voice(resource_id)
        if voice is None:
            raise NotFound("no cloned voice with that id")
        return voice_view(voice), sandbox.lifecycle.notify_voice(voice)
    generation = sandbox.state.generations.get(resource_id)
    if generation is None:
        raise NotFound("no generation with that id")
    view = generation_view(generation, sandbox.lifecycle.download_url(generation))
    return view, sandbox.lifecycle.notify_generation(generation, event)


routes = [
    Route("/generations", create_generation, methods=["POST"]),
    Route("/generations", list_generations, methods=["GET"]),
    Route("/generations/{generation_id}", get_generation, methods=["GET"]),
    Route("/trigger", trigger, methods=["POST"]),
]
