"""A running sandbox as tests drive it: API and control clients, and short-cuts over them."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from sandbox.server import RunningSandbox
from sandbox.voices import DEFAULT_VOICE
from tests.sandbox.sink import WebhookSink
from tests.waiting import HANG_SECONDS, wait_until

T = TypeVar("T")

EMMA = DEFAULT_VOICE.id


def poll(
    check: Callable[[], T | None], timeout: float = HANG_SECONDS, what: str = "condition"
) -> T:
    """Call `check` until it returns something truthy, and return it (see `wait_until`)."""
    return wait_until(check, timeout=timeout, description=what, interval=0.01)


def openssl_signature(body: bytes, secret: str) -> str:
    """The signature header value as OpenSSL computes it, independently of our code."""
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret],
        input=body,
        capture_output=True,
        check=True,
    )
    return "sha256=" + result.stdout.decode().strip().rsplit("= ", 1)[1]


class Harness:
    """One sandbox, reset for the test, and the webhook sink its default endpoint posts to."""

    def __init__(self, server: RunningSandbox, sink: WebhookSink, hook_path: str) -> None:
        self.server = server
        self.sink = sink
        self.hook_path = hook_path
        self.url = server.url
        self.api = self.client_for(server.api_key)
        self.control = httpx.Client(base_url=server.url + "/sandbox", trust_env=False, timeout=30)
        self.files = httpx.Client(trust_env=False, timeout=30)

    def close(self) -> None:
        for client in (self.api, self.control, self.files):
            client.close()

    def client_for(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.server.url, headers=headers, trust_env=False, timeout=30)

    def reset(self) -> None:
        self.control.post("/reset").raise_for_status()
        self.sink.clear()

    def faults(self, **changes: object) -> dict[str, Any]:
        response = self.control.patch("/faults", json=changes)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def advance(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def workspace(self, plan: str = "scale", credits: int = 1000) -> dict[str, Any]:
        response = self.control.post("/workspaces", json={"plan": plan, "credits": credits})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def default_workspace(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control.get("/workspaces/default").json()
        return result

    def submit(
        self, script: str = "Hello, world!", fmt: str = "wav", client: httpx.Client | None = None
    ) -> str:
        body = {"voiceId": EMMA, "script": script, "format": fmt}
        response = (client or self.api).post("/v1/generations", json=body)
        assert response.status_code == 202, response.text
        generation_id: str = response.json()["id"]
        return generation_id

    def generation(self, generation_id: str) -> dict[str, Any]:
        response = self.api.get(f"/v1/generations/{generation_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait_for_status(
        self, generation_id: str, *statuses: str, timeout: float = HANG_SECONDS
    ) -> dict[str, Any]:
        """Poll the control view (outside the rate limit) until the status is one of `statuses`."""

        def check() -> dict[str, Any] | None:
            view: dict[str, Any] = self.control.get(f"/generations/{generation_id}").json()
            return view if view["status"] in statuses else None

        return poll(check, timeout, f"generation {generation_id} to be {statuses}")

    def ready_generation(self, fmt: str = "wav", **extra: object) -> dict[str, Any]:
        response = self.control.post("/generations", json={"format": fmt, **extra})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def deliveries(self, **query: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.control.get("/deliveries", params=query).json()["items"]
        return items

    def wait_for_delivery_state(
        self, delivery_id: str, state: str, timeout: float = HANG_SECONDS
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            for delivery in self.deliveries():
                if delivery["id"] == delivery_id and delivery["state"] == state:
                    return delivery
            return None

        return poll(check, timeout, f"delivery {delivery_id} to be {state}")
