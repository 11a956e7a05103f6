"""One POST of a notification: no redirect followed, no credentials, a bounded answer."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

ANSWER_BYTES = 512  # of the endpoint's answer, kept as the error of a failed try


@dataclass(frozen=True)
class PostOutcome:
    delivered: bool
    status_code: int | None
    error: str | None


def post_notification(
    client: httpx.Client, url: httpx.URL, body: bytes, headers: dict[str, str]
) -> PostOutcome:
    """POST `body`; delivered on any 2xx (a redirect is a failure, never followed)."""
    request = httpx.Request("POST", url, content=body, headers=headers)
    try:
        response = client.send(request, stream=True, follow_redirects=False)
    except httpx.HTTPError as exc:
        return PostOutcome(False, None, f"{type(exc).__name__}: {exc}")
    try:
        if 200 <= response.status_code < 300:
            return PostOutcome(True, response.status_code, None)
        answer = _first_bytes(response)
        return PostOutcome(False, response.status_code, f"HTTP {response.status_code}: {answer}")
    finally:
        response.close()


def _first_bytes(response: httpx.Response) -> str:
    kept = b""
    try:
        for chunk in response.iter_raw(ANSWER_BYTES):
            kept += chunk
            if len(kept) >= ANSWER_BYTES:
                break
    except httpx.HTTPError:
        pass
    return kept[:ANSWER_BYTES].decode("utf-8", "replace")
