"""Sandboxes served over real HTTP on free ports, and a real webhook sink they post to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sandbox.server import RunningSandbox, run_sandbox
from sandbox.settings import SandboxSettings
from tests.sandbox.harness import Harness
from tests.sandbox.sink import WebhookSink, running_sink

HOOK_SECRET = "whsec_sandbox_tests"
URL_SECRET = "url-signing-secret-for-tests"
FAST_HOOK = "/fast"
CLOCKED_HOOK = "/clocked"
IMPATIENT_HOOK = "/impatient"
IMPATIENT_TIMEOUT_SECONDS = 0.5


def fast_settings(sink: WebhookSink, **overrides: object) -> SandboxSettings:
    """Real-time phases of a few hundredths of a second and short retries. The webhook
    time-out is long: the sink answers at once, and a loaded machine that stalls it past a
    short time-out would turn an answer into a retry (`impatient` tests the time-out)."""
    values: dict[str, object] = {
        "speech": "tone",
        "seed": 1234,
        "credits": 1000,
        "queued_seconds": 0.05,
        "running_seconds": 0.1,
        "enhancing_seconds": 0.05,
        "clone_seconds": 0.1,
        "rate_limit_requests": 100_000,
        "webhook_url": sink.url + FAST_HOOK,
        "webhook_secret": HOOK_SECRET,
        "webhook_timeout_seconds": 30,
        "webhook_retry_schedule": [0.1, 0.2, 0.3],
        "url_signing_secret": URL_SECRET,
        "max_upload_bytes": 1024 * 1024,
    }
    values.update(overrides)
    return SandboxSettings.model_validate(values)


@pytest.fixture(scope="session")
def sink() -> Iterator[WebhookSink]:
    with running_sink() as sink:
        yield sink


@pytest.fixture(scope="session")
def fast_server(sink: WebhookSink) -> Iterator[RunningSandbox]:
    with run_sandbox(fast_settings(sink)) as server:
        yield server


@pytest.fixture(scope="session")
def clocked_server(sink: WebhookSink) -> Iterator[RunningSandbox]:
    """Phases and retries of tens of seconds: nothing moves unless a test advances the clock."""
    settings = fast_settings(
        sink,
        queued_seconds=30,
        running_seconds=30,
        enhancing_seconds=30,
        clone_seconds=30,
        webhook_url=sink.url + CLOCKED_HOOK,
        webhook_retry_schedule=[30, 60],
    )
    with run_sandbox(settings) as server:
        yield server


@pytest.fixture(scope="session")
def impatient_server(sink: WebhookSink) -> Iterator[RunningSandbox]:
    """A webhook time-out of half a second, for the test of what a slower answer counts as."""
    settings = fast_settings(
        sink,
        webhook_url=sink.url + IMPATIENT_HOOK,
        webhook_timeout_seconds=IMPATIENT_TIMEOUT_SECONDS,
    )
    with run_sandbox(settings) as server:
        yield server


@contextmanager
def _reset_harness(server: RunningSandbox, sink: WebhookSink, hook: str) -> Iterator[Harness]:
    """A harness on `server`, the sandbox reset before and after the test."""
    harness = Harness(server, sink, hook)
    harness.reset()
    yield harness
    harness.reset()
    harness.close()


@pytest.fixture
def sandbox(fast_server: RunningSandbox, sink: WebhookSink) -> Iterator[Harness]:
    """The real-time sandbox, reset for this test."""
    with _reset_harness(fast_server, sink, FAST_HOOK) as harness:
        yield harness


@pytest.fixture
def clocked(clocked_server: RunningSandbox, sink: WebhookSink) -> Iterator[Harness]:
    """The slow-clocked sandbox, reset for this test."""
    with _reset_harness(clocked_server, sink, CLOCKED_HOOK) as harness:
        yield harness


@pytest.fixture
def impatient(impatient_server: RunningSandbox, sink: WebhookSink) -> Iterator[Harness]:
    """The real-time sandbox with a short webhook time-out, reset for this test."""
    with _reset_harness(impatient_server, sink, IMPATIENT_HOOK) as harness:
        yield harness
