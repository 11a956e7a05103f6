"""The receiver's internal API, as the business's own app calls it."""

from __future__ import annotations

import httpx

from bench.errors import BenchError

CUSTOMER_REF = "bench"


class JobsApi:
    def __init__(self, base_url: str, admin_token: str) -> None:
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30.0,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def create_customer(self, external_ref: str = CUSTOMER_REF) -> None:
        response = self._client.post(
            "/api/customers", json={"externalRef": external_ref, "name": "Benchmark"}
        )
        if response.status_code not in (200, 201):
            raise BenchError(f"POST /api/customers: {response.status_code} {response.text}")

    def create_job(self, voice_id: str, script: str, audio_format: str) -> str:
        """A new job for the bench's customer; its id."""
        response = self._client.post(
            "/api/jobs",
            json={
                "customerRef": CUSTOMER_REF,
                "voiceId": voice_id,
                "script": script,
                "format": audio_format,
            },
        )
        if response.status_code != 202:
            raise BenchError(f"POST /api/jobs: {response.status_code} {response.text}")
        return str(response.json()["id"])
