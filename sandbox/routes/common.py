"""What every route module needs: the running sandbox and JSON responses."""

from __future__ import annotations

from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sandbox.runtime import Sandbox


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    content: object, status_code: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(content, status_code=status_code, headers=headers)


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox this app runs (set by the lifespan before any request is served)."""
    return cast(Sandbox, request.app.state.sandbox)
