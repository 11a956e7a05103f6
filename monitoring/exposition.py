"""`/metrics` of the worker and the sweeper: prometheus_client's WSGI app on a port of its
own, behind METRICS_TOKEN when one is set, on a thread of the process that serves it."""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from config.errors import ConfigurationError
from config.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    timeout = 10  # seconds a client may take to send its request: a slow one holds no thread

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (Prometheus sends one every few seconds)."""


def exported_registry(
    *collectors: Collector,
    own: Iterable[CollectorRegistry] = (),
    multiprocess_dir: str | None = None,
) -> CollectorRegistry:
    """What a `/metrics` shows: every process's values in `multiprocess_dir` (default
    PROMETHEUS_MULTIPROC_DIR; prometheus_client's multiprocess mode), else this process's
    registries `own`; plus `collectors`."""
    registry = CollectorRegistry()
    folder = multiprocess_dir or os.environ.get(MULTIPROC_ENV)
    if folder:
        multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        for one in own:
            registry.register(_Forward(one))
    for collector in collectors:
        registry.register(collector)
    return registry


class _Forward(Collector):
    """Another registry's metrics, collected into this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Any]:
        return self._registry.collect()


def guarded(
    app: Callable[..., Iterable[bytes]], token: str | None
) -> Callable[..., Iterable[bytes]]:
    """`app` answering only `Authorization: Bearer <token>` when a token is set."""
    if not token:
        return app
    expected = f"Bearer {token}".encode()

    def check(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")],
            )
            return [b"unauthorized\n"]
        return app(environ, start_response)

    return check


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(
    registry: Collector, settings: Settings, port: int, variable: str
) -> MetricsServer:
    """Serve `registry` at http://METRICS_HOST:port/metrics on a daemon thread; a
    ConfigurationError naming `variable` (the port's setting) when it cannot listen."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app = guarded(make_wsgi_app(registry), token)
    try:
        server = make_server(
            settings.metrics_host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler
        )
    except OSError as exc:
        raise ConfigurationError(
            f"{variable}={port}: cannot listen on {settings.metrics_host}:{port} "
            f"({exc.strerror or exc}); choose a free port, or set METRICS_HOST"
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
