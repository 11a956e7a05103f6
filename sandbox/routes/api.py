"""The public API, `/v1`: the contract's endpoints, errors and order of checks (see access)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.access import admit
from sandbox.credits import estimate_credits
from sandbox.errors import InsufficientCredits, InvalidRequest, NotFound
from sandbox.models import GenerationOrder, GenerationSettings, Upload
from sandbox.routes.common import json_response, sandbox_of
from sandbox.schemas import CloneRequest, GenerationRequest, parse_body, upload_path
from sandbox.storage import save_stream
from sandbox.views import clone_job_view, generation_view, voice_view


async def list_voices(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = admit(sandbox, request.headers.get("authorization"))
    voices = sandbox.state.voices_for(workspace.id)
    return json_response({"items": [voice_view(voice) for voice in voices]})


async def create_generation(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = admit(sandbox, request.headers.get("authorization"))
    body = parse_body(GenerationRequest, await request.body())
    if len(body.script) > sandbox.settings.max_script_chars:
        raise InvalidRequest(f"script: at most {sandbox.settings.max_script_chars} characters")
    voice = sandbox.state.voice_for(workspace.id, str(body.voice_id))
    if voice is None:
        raise NotFound("no voice with that voiceId in this workspace")
    credits = estimate_credits(body.script)
    if sandbox.faults.take_forced("force_402") or workspace.credits < credits:
        raise InsufficientCredits()
    workspace.credits -= credits
    order = GenerationOrder(
        voice=voice,
        script=body.script,
        format=body.format,
        settings=GenerationSettings(body.settings.speed, body.settings.pitch_semitones),
        credits=credits,
    )
    generation = sandbox.lifecycle.submit_generation(workspace, order)
    delay = sandbox.faults.settings.generation_answer_delay_seconds
    if delay:  # made and charged, but a client that gives up or dies meanwhile cannot know
        await asyncio.sleep(delay)
    return json_response(
        {"id": generation.id, "status": generation.status.value, "estimatedCredits": credits},
        status_code=202,
    )


async def get_generation(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = admit(sandbox, request.headers.get("authorization"))
    generation = sandbox.state.generation_for(workspace.id, request.path_params["generation_id"])
    if generation is None:
        raise NotFound()
    return json_response(generation_view(generation, sandbox.lifecycle.download_url(generation)))


async def create_upload(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = admit(sandbox, request.headers.get("authorization"))
    path = upload_path(request.query_params.get("filename"))
    folder = sandbox.uploads_dir / workspace.id
    folder.mkdir(exist_ok=True)
    target = folder / path.removeprefix("uploads/")
    size = await save_stream(request.stream(), target, sandbox.settings.max_upload_bytes)
    sandbox.state.add_upload(Upload(workspace.id, path, target, size))
    return json_response({"path": path}, status_code=201)


async def clone_voice(request: Request) -> Response:
    sandbox = sandbox_of(request)
    workspace = admit(sandbox, request.headers.get("authorization"), cloning=True)
    body = parse_body(CloneRequest, await request.body())
    for path in body.sample_paths:
        if sandbox.state.upload_for(workspace.id, path) is None:
            raise InvalidRequest(f"samplePaths: {path!r} was not uploaded to this workspace")
    name = body.name or f"Cloned voice {len(sandbox.state.cloned_voices(workspace.id)) + 1}"
    job = sandbox.lifecycle.submit_clone(workspace, body.sample_paths, name, body.language)
    return json_response(clone_job_view(job), status_code=202)


routes = [
    Route("/voices", list_voices, methods=["GET"]),
    Route("/voices/clone", clone_voice, methods=["POST"]),
    Route("/generations", create_generation, methods=["POST"]),
    Route("/generations/{generation_id}", get_generation, methods=["GET"]),
    Route("/uploads", create_upload, methods=["POST"]),
]
