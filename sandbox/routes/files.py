"""Signed downloads, `/files/<id>.<format>`: no API key, no rate limit, streamed from disk."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sandbox.errors import NotFound
from sandbox.faults import plan_download
from sandbox.progression import GenerationStatus
from sandbox.routes.common import sandbox_of
from sandbox.storage import stream_file

MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


async def download(request: Request) -> Response:
    sandbox = sandbox_of(request)
    name = request.path_params["name"]
    sandbox.links.verify(
        name, request.query_params.get("expires"), request.query_params.get("signature")
    )
    generation_id, _, _ = name.rpartition(".")
    generation = sandbox.state.generations.get(generation_id)
    if (
        generation is None
        or generation.file_name != name
        or generation.status is not GenerationStatus.READY
        or generation.file_path is None
        or generation.size_bytes is None
    ):
        raise NotFound()
    plan = plan_download(sandbox.faults, generation.size_bytes)
    return StreamingResponse(
        stream_file(generation.file_path, plan),
        media_type=MEDIA_TYPES[generation.order.format],
        headers={
            "Content-Length": str(generation.size_bytes),
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


routes = [Route("/files/{name}", download, methods=["GET"])]
