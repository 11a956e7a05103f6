"""`voicehook worker`'s /metrics: real Dramatiq processes, real messages, one exposition."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.in_process import Served
from tests.ops.conftest import cli_env, run_cli
from tests.processors.flow import Sandbox
from tests.processors.test_worker_processes import (
    Processes,
    job_document,
    service,
    submit,
)
from tests.services import free_port
from tests.waiting import wait_until

__all__ = ["service"]  # the fixture, for this module's tests

METRICS_TOKEN = "scrape-me"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int, token: str | None = METRICS_TOKEN) -> Samples:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


class TestWorkerMetrics:
    def test_one_exposition_adds_up_every_process(
        self, service: tuple[Served, Processes], vpai: Sandbox, tmp_path: Path
    ) -> None:
        """Two jobs end to end through a worker of two event processes, a submissions
        process and a notifications process: its /metrics shows the messages of every queue
        (so of every process), the downloads, the upstream calls, the webhook → ready
        latency and the queue gauges; without the token it answers 401."""
        receiver, processes = service
        port = free_port()
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        processes.start(
            "worker",
            name="worker",
            env={
                "WORKER_METRICS_PORT": str(port),
                "WORKER_PROCESSES": "2",
                "METRICS_TOKEN": METRICS_TOKEN,
                "TMPDIR": str(scratch),  # where the worker makes its metrics folder
            },
        )
        jobs = [submit(receiver, script=f"Metrics, take {n}.") for n in range(2)]
        wait_until(
            lambda: all(job_document(receiver, j)["status"] == "ready" for j in jobs),
            timeout=180,
            description="both jobs are ready",
            log=processes.logs,
        )

        def counted() -> Samples | None:
            try:
                found = scrape(port)
            except httpx.HTTPError:
                return None
            # Each is counted a moment after what the jobs show (a message once its actor
            # returned; the gauges from a snapshot up to 5 s old): wait for all of them.
            done = (
                value(found, "voicehook_webhook_to_ready_seconds_count") >= 2
                and value(found, "dramatiq_messages_total", queue_name="events") >= 2
                and value(found, "dramatiq_messages_total", actor_name="submit_job") >= 2
                and value(found, "dramatiq_messages_inprogress") == 0
                and value(found, "voicehook_signals_up") == 1
                and value(found, "voicehook_jobs", status="ready") == 2
            )
            return found if done else None

        found = wait_until(counted, description="the counts reach /metrics", log=processes.logs)
        assert value(found, "dramatiq_messages_total", actor_name="submit_job") >= 2
        assert value(found, "dramatiq_message_errors_total") == 0
        assert value(found, "dramatiq_messages_inprogress") == 0
        assert (
            value(found, "dramatiq_message_duration_milliseconds_count", queue_name="events") >= 2
        )
        assert value(found, "voicehook_download_bytes_total") > 0
        assert value(found, "voicehook_download_seconds_count", outcome="ok") == 2
        assert value(found, "voicehook_download_failures_total") == 0
        posts = value(
            found, "voicehook_upstream_requests_total", method="POST", endpoint="generations"
        )
        assert posts == 2
        assert value(found, "voicehook_jobs", status="ready") == 2  # a queue gauge
        assert value(found, "voicehook_signals_up") == 1
        # Every label is bounded: an endpoint's template, never a generation's id.
        endpoints = {dict(labels).get("endpoint") for (name, labels) in found if "upstream" in name}
        assert endpoints <= {None, "generations", "generations/{id}", "voices", "uploads"}
        # The values came from several processes: each writes files of its own pid.
        [folder] = scratch.glob("voicehook-worker-metrics-*")
        pids = {path.stem.rsplit("_", 1)[-1] for path in folder.glob("*.db")}
        assert len(pids) >= 3, sorted(pids)  # two event processes and the submissions one
        unauthorized = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert unauthorized.status_code == 401


class TestPortTaken:
    def test_a_taken_port_is_one_line_and_exit_2(self, sqlite_url: str, redis_url: str) -> None:
        """WORKER_METRICS_PORT already in use: the worker starts nothing, says which setting
        to change, exits 2, and leaves no metrics folder behind."""
        # In-process, tempfile's folder is this process's (TMPDIR is read once).
        scratch = Path(tempfile.gettempdir())
        before = set(scratch.glob("voicehook-worker-metrics-*"))
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = cli_env(
                sqlite_url,
                redis_url,
                VPAI_API_KEY="vk_test_port",
                WORKER_METRICS_PORT=str(port),
            )
            result = run_cli("worker", env=env)
        assert result.returncode == 2
        assert f"WORKER_METRICS_PORT={port}: cannot listen" in result.stderr
        assert set(scratch.glob("voicehook-worker-metrics-*")) == before
