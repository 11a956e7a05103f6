"""The request budget over HTTP, on a sandbox limited to 5 requests per 2 seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sandbox.server import RunningSandbox, run_sandbox
from tests.sandbox.conftest import fast_settings
from tests.sandbox.harness import Harness, poll
from tests.sandbox.sink import WebhookSink
from tests.waiting import HANG_SECONDS

LIMIT = 5
WINDOW = 2.0


@pytest.fixture(scope="module")
def limited_server(sink: WebhookSink) -> Iterator[RunningSandbox]:
    settings = fast_settings(
        sink, rate_limit_requests=LIMIT, rate_limit_window_seconds=WINDOW, webhook_url=None
    )
    with run_sandbox(settings) as server:
        yield server


@pytest.fixture
def limited(limited_server: RunningSandbox, sink: WebhookSink) -> Iterator[Harness]:
    harness = Harness(limited_server, sink, "/unused")
    harness.reset()
    yield harness
    harness.close()


def statuses(harness: Harness, count: int, key: str | None = None) -> list[int]:
    if key is None:
        return [harness.api.get("/v1/voices").status_code for _ in range(count)]
    with harness.client_for(key) as client:
        return [client.get("/v1/voices").status_code for _ in range(count)]


class TestRateLimitOverHttp:
    def test_the_request_after_the_limit_is_429(self, limited: Harness) -> None:
        """Five requests pass; the sixth gets 429 with retryAfter = the window and Retry-After."""
        assert statuses(limited, LIMIT) == [200] * LIMIT
        refused = limited.api.get("/v1/voices")
        assert refused.status_code == 429
        assert refused.json() == {"error": "rate_limit_exceeded", "retryAfter": 2}
        assert refused.headers["retry-after"] == "2"

    def test_the_window_slides(self, limited: Harness) -> None:
        """Room comes back as each request ages out of the window, not at a fixed boundary."""
        assert statuses(limited, 3) == [200] * 3
        limited.advance(1.5)
        assert statuses(limited, 3) == [200, 200, 429]
        limited.advance(0.6)
        assert statuses(limited, 4) == [200, 200, 200, 429]

    def test_real_time_also_frees_the_window(self, limited: Harness) -> None:
        """Without touching the clock, room returns about one window after the first request."""
        started = time.monotonic()
        assert statuses(limited, LIMIT + 1)[-1] == 429
        # The deadline only guards a hang: a poll stalled past WINDOW + 2 s is no defect.
        free = WINDOW + HANG_SECONDS
        poll(lambda: statuses(limited, 1) == [200], timeout=free, what="a free slot")
        assert time.monotonic() - started >= WINDOW - 0.1

    def test_all_keys_of_a_workspace_share_the_budget(self, limited: Harness) -> None:
        """A second key of the same workspace is refused once the first used the budget."""
        key = limited.control.post("/workspaces/default/keys", json={}).json()["key"]
        assert statuses(limited, 3) == [200] * 3
        assert statuses(limited, 3, key) == [200, 200, 429]

    def test_workspaces_have_their_own_budgets(self, limited: Harness) -> None:
        """Another workspace is unaffected by the default one running out."""
        statuses(limited, LIMIT + 2)
        other = limited.workspace()
        assert statuses(limited, LIMIT, other["apiKeys"][0]) == [200] * LIMIT

    def test_refused_before_the_limiter_is_not_counted(self, limited: Harness) -> None:
        """401s and 403s do not use a workspace's budget."""
        pro = limited.workspace(plan="pro")
        statuses(limited, 3, pro["apiKeys"][0])
        statuses(limited, 3, "vk_test_wrong")
        assert statuses(limited, LIMIT) == [200] * LIMIT

    def test_counts_are_reported(self, limited: Harness) -> None:
        """The control API reports served requests, 429s, and the window's current use."""
        statuses(limited, LIMIT + 3)
        requests = limited.default_workspace()["requests"]
        assert requests == {"served": LIMIT, "rateLimited": 3, "inCurrentWindow": LIMIT}

    def test_every_endpoint_draws_from_the_budget(self, limited: Harness) -> None:
        """Submissions, polls, uploads and listings all count."""
        generation_id = limited.submit()
        limited.api.get(f"/v1/generations/{generation_id}")
        limited.api.post("/v1/uploads?filename=a.wav", content=b"x")
        limited.api.get("/v1/voices")
        limited.api.post("/v1/voices/clone", json={"samplePaths": ["uploads/a.wav"]})
        assert limited.api.get("/v1/voices").status_code == 429
