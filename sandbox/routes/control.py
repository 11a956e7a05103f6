"""The control API's administration, `/sandbox/...`: reset, clock, workspaces, endpoints,
faults and the delivery log. No API key; it is for tests and developers on localhost."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.clock import iso_millis
from sandbox.errors import ApiKeyTaken, InvalidRequest, NotFound
from sandbox.models import Workspace
from sandbox.routes.common import json_response, sandbox_of
from sandbox.runtime import Sandbox
from sandbox.schemas import (
    ClockAdvance,
    EndpointCreate,
    KeyCreate,
    WorkspaceCreate,
    WorkspaceUpdate,
    parse_body,
)
from sandbox.settings import generate_webhook_secret
from sandbox.state import DEFAULT_WORKSPACE_ID, new_api_key
from sandbox.views import delivery_view, endpoint_view, workspace_view


def find_workspace(sandbox: Sandbox, workspace_id: str | None) -> Workspace:
    """The named workspace (`default` or absent: the default one), or 404."""
    if workspace_id in (None, "default"):
        workspace_id = DEFAULT_WORKSPACE_ID
    workspace = sandbox.state.workspaces.get(workspace_id or "")
    if workspace is None:
        raise NotFound("no such workspace")
    return workspace


def _workspace(sandbox: Sandbox, workspace: Workspace) -> dict[str, object]:
    return workspace_view(
        workspace, sandbox.limiter.in_window(workspace.id, sandbox.clock.monotonic())
    )


def _clock(sandbox: Sandbox) -> dict[str, object]:
    return {"now": iso_millis(sandbox.clock.now()), "offsetSeconds": sandbox.clock.offset}


async def overview(request: Request) -> Response:
    sandbox = sandbox_of(request)
    return json_response(
        {
            "apiBaseUrl": sandbox.settings.base_url() + "/v1",
            "apiKey": sandbox.settings.api_key.get_secret_value(),
            "defaultWorkspaceId": DEFAULT_WORKSPACE_ID,
            "seed": sandbox.faults.seed,
            "clock": _clock(sandbox),
            "webhookEndpoints": [endpoint_view(e) for e in sandbox.state.endpoints.values()],
        }
    )


async def reset(request: Request) -> Response:
    sandbox_of(request).reset()
    return json_response({"status": "reset"})


async def get_clock(request: Request) -> Response:
    return json_response(_clock(sandbox_of(request)))


async def advance_clock(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = parse_body(ClockAdvance, await request.body())
    sandbox.advance(body.seconds)
    return json_response(_clock(sandbox))


async def list_workspaces(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspaces = sandbox.state.workspaces.values()
    return json_response({"items": [_workspace(sandbox, w) for w in workspaces]})


async def create_workspace(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = parse_body(WorkspaceCreate, await request.body())
    if body.api_key and sandbox.state.workspace_for_key(body.api_key):
        raise InvalidRequest("apiKey: that key already belongs to a workspace")
    workspace = sandbox.state.create_workspace(
        plan=body.plan, credits=body.credits, name=body.name, api_key=body.api_key
    )
    return json_response(_workspace(sandbox, workspace), status_code=201)


async def get_workspace(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = find_workspace(sandbox, request.path_params["workspace_id"])
    return json_response(_workspace(sandbox, workspace))


async def update_workspace(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = find_workspace(sandbox, request.path_params["workspace_id"])
    body = parse_body(WorkspaceUpdate, await request.body())
    if body.name is not None:
        workspace.name = body.name
    if body.plan is not None:
        workspace.plan = body.plan
    if body.credits is not None:
        workspace.credits = body.credits
    return json_response(_workspace(sandbox, workspace))


async def create_key(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = find_workspace(sandbox, request.path_params["workspace_id"])
    body = parse_body(KeyCreate, await request.body() or b"{}")
    try:
        key = sandbox.state.add_key(workspace, body.key or new_api_key())
    except ApiKeyTaken as exc:
        raise InvalidRequest(f"key: {exc}") from exc
    return json_response({"key": key, "workspaceId": workspace.id}, status_code=201)


async def list_endpoints(request: Request) -> Response:
    endpoints = sandbox_of(request).state.endpoints.values()
    return json_response({"items": [endpoint_view(e) for e in endpoints]})


async def create_endpoint(request: Request) -> Response:
    sandbox = sandbox_of(request)
    body = parse_body(EndpointCreate, await request.body())
    workspace = find_workspace(sandbox, body.workspace_id)
    endpoint = sandbox.add_endpoint(workspace, body.url, body.secret or generate_webhook_secret())
    return json_response(endpoint_view(endpoint), status_code=201)


async def delete_endpoint(request: Request) -> Response:
    sandbox = sandbox_of(request)
    if sandbox.state.endpoints.pop(request.path_params["endpoint_id"], None) is None:
        raise NotFound("no such webhook endpoint")
    return Response(status_code=204)


def _faults(sandbox: Sandbox) -> dict[str, object]:
    return {"seed": sandbox.faults.seed, **sandbox.faults.settings.model_dump(by_alias=True)}


async def get_faults(request: Request) -> Response:
    return json_response(_faults(sandbox_of(request)))


async def update_faults(request: Request) -> Response:
    """Apply a partial update; `seed` restarts every random stream from that seed."""
    sandbox = sandbox_of(request)
    try:
        changes: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest("the body is not JSON") from exc
    if not isinstance(changes, dict):
        raise InvalidRequest("the body must be an object of fault settings")
    seed = changes.pop("seed", None)
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise InvalidRequest("seed: must be an integer")
    try:
        sandbox.faults.update(changes)
    except ValidationError as exc:
        raise InvalidRequest(str(exc.errors()[0]["msg"])) from exc
    if seed is not None:
        sandbox.faults.reseed(seed)
    return json_response(_faults(sandbox))


async def list_deliveries(request: Request) -> Response:
    query = request.query_params
    deliveries = sandbox_of(request).dispatcher.deliveries(
        event=query.get("event"),
        resource_id=query.get("resourceId"),
        endpoint_id=query.get("endpointId"),
    )
    return json_response({"items": [delivery_view(d) for d in deliveries]})


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/clock", get_clock, methods=["GET"]),
    Route("/clock/advance", advance_clock, methods=["POST"]),
    Route("/workspaces", list_workspaces, methods=["GET"]),
    Route("/workspaces", create_workspace, methods=["POST"]),
    Route("/workspaces/{workspace_id}", get_workspace, methods=["GET"]),
    Route("/workspaces/{workspace_id}", update_workspace, methods=["PATCH"]),
    Route("/workspaces/{workspace_id}/keys", create_key, methods=["POST"]),
    Route("/webhook-endpoints", list_endpoints, methods=["GET"]),
    Route("/webhook-endpoints", create_endpoint, methods=["POST"]),
    Route("/webhook-endpoints/{endpoint_id}", delete_endpoint, methods=["DELETE"]),
    Route("/faults", get_faults, methods=["GET"]),
    Route("/faults", update_faults, methods=["PATCH"]),
    Route("/deliveries", list_deliveries, methods=["GET"]),
]
