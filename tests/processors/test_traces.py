"""Traces in real processes: one trace from the webhook POST to the job's audio in place.

The receiver (uvicorn and its writer process) and `voicehook worker` export to a local
OTLP/HTTP receiver (tests/otlp_receiver.py); the sandbox, over real HTTP, submits, generates
and posts the `generation.ready` webhook as the upstream would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.processors.flow import Sandbox
from tests.processors.test_worker_processes import (
    Processes,
    job_document,
    process_env,
    submit,
)
from tests.services import ServerProcess, start_receiver, wait_for

WORKER_SPANS = {"event.claim", "audio.download", "audio.verify", "audio.store", "job.complete"}


@pytest.fixture
def collector() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture
def traced(
    database_url: str,
    redis_url: str,
    migrated_engine: Engine,
    vpai: Sandbox,
    tmp_path: Path,
    *,
    collector: OtlpReceiver,
) -> Iterator[tuple[ServerProcess, Processes]]:
    """The receiver as a process and the worker, both exporting traces to `collector`."""
    env = process_env(
        database_url,
        redis_url,
        vpai,
        AUDIO_DIR=str(tmp_path / "audio"),
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within a tenth of a second, not five
    )
    receiver = start_receiver(env, tmp_path / "receiver.log")
    processes = Processes(env, tmp_path)
    try:
        vpai.control.post(
            "/webhook-endpoints",
            json={"url": receiver.url + "/webhooks/voiceproductionai", "secret": env_secret(env)},
        ).raise_for_status()
        yield receiver, processes
    finally:
        processes.stop_all()
        receiver.stop()


def env_secret(env: dict[str, str]) -> str:
    return env["VPAI_WEBHOOK_SECRETS"].split(",")[0]


def ready_trace(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    """The spans of the trace that began at a `generation.ready` webhook (empty: none yet)."""
    roots = [
        span
        for span in spans
        if span.name == "webhook.receive"
        and span.attributes.get("voicehook.event_type") == "generation.ready"
    ]
    if not roots:
        return []
    return [span for span in spans if span.trace_id == roots[0].trace_id]


class TestOneTraceFromPostToReady:
    def test_webhook_and_worker_spans_share_one_trace(
        self, traced: tuple[ServerProcess, Processes], collector: OtlpReceiver, vpai: Sandbox
    ) -> None:
        """The webhook request's span is the root; the worker's message span is its child,
        carries the event id, and the claim, download, verify, store and completion are
        spans under it; the worker's upstream call has a span of its own."""
        receiver, processes = traced
        processes.start("worker", name="worker")
        job_id = submit(receiver)
        logs = lambda: processes.logs() + "\n=== receiver ===\n" + receiver.log()  # noqa: E731
        wait_for(
            lambda: job_document(receiver, job_id)["status"] == "ready",
            120,
            description="the job is ready",
            log=logs,
        )
        wait_for(
            # The actor's span ends after the steps inside it, so it may come in a later batch.
            lambda: (
                {span.name for span in ready_trace(collector.spans())}
                >= WORKER_SPANS | {"webhook.receive", "process_event"}
            ),
            60,
            description="the ready trace holds the webhook's, the message's and every step's span",
            log=logs,
        )
        trace = ready_trace(collector.spans())
        by_name = {span.name: span for span in trace}
        root = by_name["webhook.receive"]
        assert root.service == "voicehook-web"
        assert root.parent_span_id == ""  # a new trace begins at the webhook request
        assert root.attributes["http.response.status_code"] == 202
        event_id = root.attributes["voicehook.event_id"]

        message = by_name["process_event"]
        assert message.service == "voicehook-worker"
        assert message.parent_span_id == root.span_id
        assert message.attributes["voicehook.event_id"] == event_id
        for name in WORKER_SPANS:
            assert by_name[name].parent_span_id in {s.span_id for s in trace if s is not root}
            assert by_name[name].service == "voicehook-worker"
        assert by_name["event.claim"].attributes["voicehook.event_id"] == event_id
        assert by_name["audio.download"].attributes["voicehook.audio_bytes"] > 0
        assert by_name["job.complete"].attributes["voicehook.job_id"] == job_id

        submits = [s for s in collector.spans() if s.name == "submit_job"]
        assert [s.attributes["voicehook.job_id"] for s in submits] == [job_id]
        upstream = [s for s in collector.spans() if s.name == "vpai POST generations"]
        assert upstream, "the submission's upstream call has a span"
        assert upstream[0].parent_span_id == submits[0].span_id
        assert upstream[0].attributes["http.response.status_code"] == 202
