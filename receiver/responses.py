"""JSON responses, encoded with orjson."""

from __future__ import annotations

import orjson
from starlette.responses import Response


def json_response(status: int, content: object) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")
