"""Traces are off unless OTEL_EXPORTER_OTLP_ENDPOINT is set, and off means no OpenTelemetry."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.services import ROOT

# Imports every module that starts spans, builds the app and a broker, and reports what it
# loaded of OpenTelemetry and whether the broker got the trace middleware.
PROBE = """
import json, sys
import redis  # redis-py 8 try-imports OpenTelemetry's metrics API itself, when it is installed
by_redis = {m for m in sys.modules if m.startswith("opentelemetry")}
from config.settings import Settings
from config.tracing import configure_tracing, span, current_traceparent
import config.broker, processors.dispatch, processors.stored_audio, processors.vpai
import receiver.app, receiver.webhook
settings = Settings(redis_url="redis://127.0.0.1:1/0")
on = configure_tracing(settings, "probe")
with span("probe") as inside:
    parent = current_traceparent()
broker = config.broker.build_broker(settings)
print(json.dumps({
    "on": on,
    "modules": sorted(
        m for m in sys.modules if m.startswith("opentelemetry") and m not in by_redis
    ),
    "ours": "config.otel" in sys.modules,
    "middleware": [type(m).__name__ for m in broker.middleware],
    "traceparent": parent,
}))
"""


def probe(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


class TestTracingSwitch:
    def test_off_without_an_endpoint_imports_nothing_of_opentelemetry(self) -> None:
        """No endpoint: no OpenTelemetry module loaded (beyond what redis-py loads on its own),
        no middleware, no context to carry."""
        answer = probe()
        assert answer["on"] is False
        assert answer["modules"] == []
        assert answer["ours"] is False
        assert "TraceMiddleware" not in answer["middleware"]  # type: ignore[operator]
        assert answer["traceparent"] is None

    def test_on_with_an_endpoint(self) -> None:
        """An endpoint turns traces on: spans have a context to carry, the broker the
        middleware that carries it (nothing is listening there: exports fail quietly)."""
        answer = probe(
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_BSP_SCHEDULE_DELAY="60000"
        )
        assert answer["on"] is True
        assert answer["ours"] is True
        assert "opentelemetry.sdk.trace" in answer["modules"]  # type: ignore[operator]
        assert "TraceMiddleware" in answer["middleware"]  # type: ignore[operator]
        traceparent = str(answer["traceparent"])
        assert traceparent.startswith("00-")
        assert len(traceparent.split("-")) == 4
