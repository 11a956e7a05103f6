"""The sandbox as a Starlette app: `create_app(settings)`; its lifespan runs the background work."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from sandbox.errors import ApiError, DownloadCutOff
from sandbox.routes import api, control, files, resources
from sandbox.routes.common import json_response
from sandbox.runtime import Sandbox
from sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)

HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}


class HideInjectedCutOffs(logging.Filter):
    """Keeps uvicorn from logging a traceback for each download a fault cut off on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BaseExceptionGroup):
            return not error.subgroup(DownloadCutOff)
        return not isinstance(error, DownloadCutOff)


@contextlib.contextmanager
def data_directory(configured: Path | None) -> Iterator[Path]:
    """The configured data directory (kept), or a temporary one removed at shutdown."""
    if configured is not None:
        configured.mkdir(parents=True, exist_ok=True)
        yield configured
        return
    with tempfile.TemporaryDirectory(
        prefix="voicehook-sandbox-", ignore_cleanup_errors=True
    ) as temporary:
        yield Path(temporary)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body(), status_code=exc.status, headers=exc.headers())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_ERROR_CODES.get(exc.status_code, "invalid_request")
    headers = dict(exc.headers) if exc.headers else None
    return json_response({"error": code}, status_code=exc.status_code, headers=headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # A truncated download has already sent its headers; re-raising drops the connection.
    if isinstance(exc, DownloadCutOff):
        raise exc
    return json_response({"error": "internal_error"}, status_code=500)


def create_app(settings: SandboxSettings | None = None) -> Starlette:
    """Build the sandbox app. State lives from lifespan start to end; use the app with lifespan."""
    settings = settings or SandboxSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        cut_offs = HideInjectedCutOffs()
        logging.getLogger("uvicorn.error").addFilter(cut_offs)
        try:
            with data_directory(settings.data_dir) as root:
                sandbox = Sandbox(settings, root)
                app.state.sandbox = sandbox
                async with sandbox.running():
                    yield
        finally:
            logging.getLogger("uvicorn.error").removeFilter(cut_offs)

    return Starlette(
        routes=[
            Mount("/v1", routes=api.routes),
            *files.routes,
            Mount("/sandbox", routes=[*control.routes, *resources.routes]),
        ],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
