"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from config.database import database_answers
from receiver.metrics import ReceiverMetrics
from receiver.responses import json_response


async def healthz(_: Request) -> Response:
    """The process is up and serving."""
    return json_response(200, {"status": "ok"})


class Readiness:
    """`GET /readyz`: 200 only when the database, the broker and a writer process answer."""

    def __init__(
        self, engine: Engine, broker_ready: Callable[[], bool], writer_ready: Callable[[], bool]
    ) -> None:
        self._engine = engine
        self._broker_ready = broker_ready
        self._writer_ready = writer_ready

    async def handle(self, _: Request) -> Response:
        database_ok, broker_ok = await asyncio.gather(
            asyncio.to_thread(database_answers, self._engine), asyncio.to_thread(self._broker_ready)
        )
        writer_ok = self._writer_ready()
        checks = {
            "database": "ok" if database_ok else "unavailable",
            "broker": "ok" if broker_ok else "unavailable",
            "writer": "ok" if writer_ok else "unavailable",
        }
        ready = database_ok and broker_ok and writer_ok
        return json_response(
            200 if ready else 503, {"status": "ready" if ready else "not_ready"} | checks
        )


class MetricsEndpoint:
    """`GET /metrics`: the receiver's metrics, and the queue gauges when given; behind
    METRICS_TOKEN when one is set."""

    def __init__(
        self,
        metrics: ReceiverMetrics,
        *extra: Collector,
        token: str | None = None,
    ) -> None:
        self._metrics = metrics
        self._extra = extra
        self._expected = f"Bearer {token}".encode() if token else None

    async def handle(self, request: Request) -> Response:
        if self._expected is not None:
            given = request.headers.get("authorization", "").encode("latin-1", "replace")
            if not hmac.compare_digest(given, self._expected):
                return json_response(401, {"error": "unauthorized"})
        # The gauges may wait on the database (for their time limit): not on the event loop.
        text = await asyncio.to_thread(self._metrics.render, *self._extra)
        return Response(text, media_type=CONTENT_TYPE_LATEST)
