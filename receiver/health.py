"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST
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
    def __init__(self, metrics: ReceiverMetrics) -> None:
        self._metrics = metrics

    async def handle(self, _: Request) -> Response:
        return Response(self._metrics.render(), media_type=CONTENT_TYPE_LATEST)
