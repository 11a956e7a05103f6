"""`GET /api/jobs/{id}/audio`: the job's audio from wherever the store keeps it.

The local store's file is served directly (Starlette's FileResponse, with Range). From a
bucket the answer is a redirect to a presigned link of `AUDIO_URL_LIFETIME_SECONDS`, so the
bytes never pass through the web process; `?redirect=false`, or `Accept:
application/octet-stream`, streams them through instead (for apps that cannot follow a
redirect), with Range too. An object the records have but the store lost is said so in
plain words, with the way to fetch it again.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from receiver.byte_ranges import ByteRange, Unsatisfiable, parse_range
from receiver.responses import json_response
from records.audio_records import JobAudio, job_audio
from storage.errors import ObjectStoreError
from storage.keys import media_type
from storage.protocol import ObjectStore, StoredObject

log = structlog.get_logger(__name__)

STREAM_MEDIA_TYPE = "application/octet-stream"
LOST = (
    "the audio object is missing from the store ({store}); reprocess the job's "
    "generation.ready event (`voicehook events reprocess --id EVENT_ID`) to fetch it again"
)


def wants_stream(request: Request) -> bool:
    """Whether the caller asked for the bytes themselves rather than a redirect."""
    if request.query_params.get("redirect", "").lower() in ("false", "0", "no"):
        return True
    accepted = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == STREAM_MEDIA_TYPE for part in accepted.split(","))


class AudioDelivery:
    def __init__(self, engine: Engine, store: ObjectStore, lifetime_seconds: int) -> None:
        self._engine = engine
        self._store = store
        self._lifetime = lifetime_seconds

    async def handle(self, request: Request) -> Response:
        record = await run_in_threadpool(job_audio, self._engine, request.path_params["job_id"])
        if record is None:
            return json_response(
                404, {"error": "not_found", "detail": f"no job {request.path_params['job_id']}"}
            )
        if record.status != "ready" or record.key is None:
            detail = f"the job is {record.status}; its audio comes when it is ready"
            return json_response(
                409, {"error": "not_ready", "detail": detail, "status": record.status}
            )
        if record.pruned_at is not None:
            detail = f"retention deleted this audio at {record.pruned_at.isoformat()}"
            return json_response(410, {"error": "audio_pruned", "detail": detail})
        if record.store != self._store.name:
            detail = (
                f"the audio is in {record.store}, this service uses {self._store.name}: "
                f"move it with `voicehook storage migrate --to {self._store.name}`"
            )
            return json_response(404, {"error": "audio_missing", "detail": detail})
        try:
            return await run_in_threadpool(self._answer, request, record)
        except ObjectStoreError as exc:
            log.warning("internal_api.store_error", job_id=record.job_id, error=str(exc))
            return json_response(503, {"error": "storage_unavailable", "detail": str(exc)})

    def _answer(self, request: Request, record: JobAudio) -> Response:
        assert record.key is not None
        found = self._store.stat(record.key)
        if found is None:
            log.warning("internal_api.audio_missing", job_id=record.job_id, key=record.key)
            detail = LOST.format(store=self._store.name)
            return json_response(404, {"error": "audio_missing", "detail": detail})
        kind = media_type(record.format)
        path = self._store.local_path(record.key)
        if path is not None:
            return FileResponse(path, media_type=kind)
        if not wants_stream(request):
            url = self._store.url(record.key, lifetime_seconds=self._lifetime, media_type=kind)
            if url is not None:
                return RedirectResponse(url, status_code=307)
        return self._stream(request, record.key, found, kind)

    def _stream(self, request: Request, key: str, found: StoredObject, kind: str) -> Response:
        asked = parse_range(request.headers.get("range"), found.size)
        if isinstance(asked, Unsatisfiable):
            return Response(status_code=416, headers={"content-range": f"bytes */{asked.size}"})
        whole = asked or ByteRange(0, found.size, found.size)
        headers = {"accept-ranges": "bytes", "content-length": str(whole.stop - whole.start)}
        if asked is not None:
            headers["content-range"] = asked.content_range
        return StreamingResponse(
            _chunks(self._store, key, whole),
            status_code=206 if asked is not None else 200,
            headers=headers,
            media_type=kind,
        )


def _chunks(store: ObjectStore, key: str, part: ByteRange) -> Iterator[bytes]:
    with store.open(key, part.start, part.stop) as chunks:
        yield from chunks
