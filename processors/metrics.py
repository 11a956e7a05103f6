"""The workers' own Prometheus metrics: downloads, upstream requests, webhook → job ready.

Dramatiq's messages are counted by its own middleware (`processors.message_metrics`). These
live in one registry of the module's own; in a `voicehook worker` process
PROMETHEUS_MULTIPROC_DIR is set before Python starts, so each value is written to that
folder and the worker's `/metrics` adds up every process's (prometheus_client's multiprocess
mode). Labels are bounded: an endpoint's template, a status code, a reason of a fixed list.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram

from processors.errors import (
    AudioInvalid,
    DisallowedUrl,
    DownloadFailed,
    DownloadRefused,
    DownloadTooLarge,
)

REGISTRY = CollectorRegistry()

SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class DownloadFailure(StrEnum):
    TRUNCATED = "truncated"  # the body ended before its declared length
    CORRUPT = "corrupt"  # the file is not the audio it claims
    EXPIRED = "expired"  # the server refused the URL (a signed URL past its lifetime)
    REFUSED = "refused"  # our policy refused it: a host not allowed, or too large
    NETWORK = "network"  # a connection error, a time-out or a bad status


def failure_reason(exc: BaseException) -> DownloadFailure:
    """Which of the fixed reasons a download's exception is."""
    if isinstance(exc, AudioInvalid):
        return DownloadFailure.CORRUPT
    if isinstance(exc, DownloadRefused):
        return DownloadFailure.EXPIRED
    if isinstance(exc, DisallowedUrl | DownloadTooLarge):
        return DownloadFailure.REFUSED
    if isinstance(exc, DownloadFailed) and str(exc).startswith("truncated"):
        return DownloadFailure.TRUNCATED
    return DownloadFailure.NETWORK


DOWNLOAD_BYTES = Counter(
    "voicehook_download_bytes",
    "Bytes of audio downloaded and verified.",
    registry=REGISTRY,
)
DOWNLOAD_SECONDS = Histogram(
    "voicehook_download_seconds",
    "Time to download and verify one file, by outcome (ok or failed).",
    ["outcome"],
    buckets=SECONDS_BUCKETS,
    registry=REGISTRY,
)
DOWNLOAD_FAILURES = Counter(
    "voicehook_download_failures",
    "Downloads that failed, by reason.",
    ["reason"],
    registry=REGISTRY,
)
UPSTREAM_REQUESTS = Counter(
    "voicehook_upstream_requests",
    "Requests to the Voice Production AI API by endpoint and status ('error': no answer).",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
)
UPSTREAM_RATE_LIMITED = Counter(
    "voicehook_upstream_rate_limited",
    "429 answers from the API (each pauses every process for its retryAfter).",
    registry=REGISTRY,
)
UPSTREAM_PAUSE_SECONDS = Counter(
    "voicehook_upstream_pause_seconds",
    "Seconds of pause the API's 429s asked for (retryAfter), summed.",
    registry=REGISTRY,
)
BUDGET_POSTPONED = Counter(
    "voicehook_budget_postponed",
    "Calls postponed because no budget slot came free within the wait.",
    registry=REGISTRY,
)
WEBHOOK_TO_READY = Histogram(
    "voicehook_webhook_to_ready_seconds",
    "Time from a generation.ready webhook's receipt to its job's audio being stored.",
    buckets=SECONDS_BUCKETS,
    registry=REGISTRY,
)

for _reason in DownloadFailure:
    DOWNLOAD_FAILURES.labels(_reason.value)

# Path segments after the first that name an action, not a resource.
_ACTIONS = frozenset({"clone"})


def endpoint_label(path: str) -> str:
    """`generations/gen_123` → `generations/{id}`: no ids in labels."""
    first, *rest = path.strip("/").split("/")
    return "/".join([first, *(part if part in _ACTIONS else "{id}" for part in rest)])
