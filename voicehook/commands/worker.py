"""`voicehook worker`: Dramatiq workers for events and for job submissions."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from config.database import make_engine
from config.errors import ConfigurationError
from config.queues import EVENTS_QUEUE, JOBS_QUEUE, NOTIFICATIONS_QUEUE
from config.settings import Settings
from monitoring.exposition import MULTIPROC_ENV, exported_registry, serve_metrics
from monitoring.gauges import queue_gauges
from processors.worker import DRAMATIQ_ARGS, build_context
from voicehook.supervisor import Child, Supervisor, inherit_env, python_module

# Below a PaaS's usual 30 s grace period: in-flight messages get this long, then are requeued.
SHUTDOWN_TIMEOUT_MS = 20_000
# How long a stop waits for the Dramatiq processes before it kills them: their drain, and a margin.
STOP_GRACE_SECONDS = SHUTDOWN_TIMEOUT_MS / 1000 + 5


def dramatiq_command(queue: str, processes: int, threads: int) -> list[str]:
    return python_module(
        "dramatiq",
        *DRAMATIQ_ARGS,
        "--queues",
        queue,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--worker-shutdown-timeout",
        str(SHUTDOWN_TIMEOUT_MS),
        "--skip-logging",
    )


def worker(
    processes: int | None = typer.Option(None, help="Event processes (default WORKER_PROCESSES)."),
    threads: int | None = typer.Option(None, help="Threads each (default WORKER_THREADS)."),
) -> None:
    """Run the event workers and the submission worker until SIGTERM or Ctrl-C."""
    settings = Settings()
    try:
        build_context(settings)
        settings.notify_secret_values()
    except ConfigurationError as exc:
        typer.echo(f"voicehook worker: {exc}", err=True)
        raise typer.Exit(2) from None
    # An idle Dramatiq consumer polls Redis at most this often (ms); Dramatiq's 1000 ms default
    # added up to a second to every event arriving after a quiet spell.
    poll_ms = os.environ.get("dramatiq_worker_timeout", "100")  # noqa: SIM112 - Dramatiq's name
    with worker_metrics(settings) as metrics_env:
        env = inherit_env(dramatiq_worker_timeout=poll_ms, **metrics_env)
        supervisor = Supervisor(env, grace_seconds=STOP_GRACE_SECONDS)
        try:
            start_workers(
                supervisor,
                processes or settings.worker_processes,
                threads or settings.worker_threads,
                settings.notify_worker_threads,
            )
        except KeyboardInterrupt:  # a stop signal before the supervisor's wait took over
            supervisor.stop()
            raise typer.Exit(0) from None
        code = supervisor.wait()
    raise typer.Exit(code)


@contextmanager
def worker_metrics(settings: Settings) -> Iterator[dict[str, str]]:
    """With WORKER_METRICS_PORT: a fresh folder every Dramatiq process of this worker writes
    its metrics to (the environment that says so), served at that port's `/metrics` with
    the queue gauges, until the workers stop; then the folder is removed."""
    if settings.worker_metrics_port is None:
        yield {}
        return
    folder = tempfile.mkdtemp(prefix="voicehook-worker-metrics-")
    engine = make_engine(settings, pool_size=1)
    try:
        gauges = [queue_gauges(settings, engine)] if settings.metrics_queue_gauges else []
        registry = exported_registry(*gauges, multiprocess_dir=folder)
        port = settings.worker_metrics_port
        server = serve_metrics(registry, settings, port, "WORKER_METRICS_PORT")
        try:
            # Dramatiq's middleware reads `dramatiq_prom_db`; prometheus_client the other.
            yield {MULTIPROC_ENV: folder, "dramatiq_prom_db": folder}
        finally:
            server.stop()
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def start_workers(
    supervisor: Supervisor, processes: int, threads: int, notify_threads: int
) -> None:
    supervisor.start(
        Child(
            "events",
            dramatiq_command(EVENTS_QUEUE, processes, threads),
        )
    )
    # Submissions wait on the shared budget; two threads keep it busy without a herd.
    supervisor.start(Child("submissions", dramatiq_command(JOBS_QUEUE, 1, 2)))
    # Notifications wait on the business's app, never on the events or the budget.
    supervisor.start(
        Child("notifications", dramatiq_command(NOTIFICATIONS_QUEUE, 1, notify_threads))
    )
