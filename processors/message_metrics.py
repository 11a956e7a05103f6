"""Dramatiq's own Prometheus middleware, minus its exposition server.

`dramatiq.middleware.prometheus.Prometheus` counts messages processed, failed (errors),
retried and dead-lettered (rejects) per queue and actor, times them, and keeps the in-flight
gauge, in prometheus_client's multiprocess mode. What did not fit is its exposition server:
each Dramatiq master forks one on a fixed port (`dramatiq_prom_port`), and `voicehook worker`
runs three masters (events, submissions, notifications), so two of them would fail to bind
and each would show only part of the story. `voicehook worker` serves one `/metrics` itself
over the folder all three masters' processes write to (`voicehook.commands.worker`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dramatiq.middleware.prometheus import Prometheus


class MessageMetrics(Prometheus):
    """Dramatiq's message metrics, with no forked exposition server."""

    @property
    def forks(self) -> list[Callable[..., Any]]:
        return []
