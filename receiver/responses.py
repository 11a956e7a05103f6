"""JSON responses, encoded with orjson, and the internal API's one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


def json_response(
    status: int, content: object, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


def api_error(
    status: int, code: str, detail: object, headers: Mapping[str, str] | None = None
) -> Response:
    """`{"error": code, "detail": …}`: every error of /api has this shape."""
    return json_response(status, {"error": code, "detail": detail}, headers)


def document_or_404(document: Mapping[str, Any] | None, noun: str, ident: str) -> Response:
    """A resource's document (200), or the API's 404 naming what was asked for."""
    if document is None:
        return api_error(404, "not_found", f"no {noun} {ident}")
    return json_response(200, document)
