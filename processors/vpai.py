"""The Voice Production AI API client: one method per endpoint, one exception per error code.

Every call takes a slot of the shared budget first. The API key lives in this client's own
headers and is sent to the API base URL only; downloads use a separate client with none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from config.tracing import annotate, span
from processors import metrics
from processors.budget import ApiBudget, Priority
from processors.errors import (
    AnswerLost,
    ApiError,
    BudgetExhausted,
    CloningRequiresPaidPlan,
    InsufficientCredits,
    InvalidRequest,
    NetworkError,
    NotFound,
    PublicApiRequiresScale,
    RateLimited,
    ServerError,
    Unauthorized,
)

log = structlog.get_logger(__name__)

_ERRORS: Mapping[tuple[int, str], type[ApiError]] = {
    (400, "invalid_request"): InvalidRequest,
    (401, "unauthorized"): Unauthorized,
    (402, "insufficient_credits"): InsufficientCredits,
    (403, "public_api_requires_scale"): PublicApiRequiresScale,
    (403, "cloning_requires_paid_plan"): CloningRequiresPaidPlan,
    (404, "not_found"): NotFound,
}


CONFIGURATION_HINTS: Mapping[type[ApiError], str] = {
    Unauthorized: "the API key was refused: check VPAI_API_KEY",
    PublicApiRequiresScale: "the workspace is not on the Scale plan, which the public API needs",
    CloningRequiresPaidPlan: "cloning needs the Pro or Scale plan: upgrade the workspace",
    InvalidRequest: "the API refused the request (voice, script, format or settings)",
}


# An upstream message is stored in lastError and shown in the CLI: one line, this long at most.
MAX_UPSTREAM_MESSAGE = 300
# Anything that looks like a credential is blanked before it is kept (keys, secrets, tokens,
# the query string of a signed URL).
_CREDENTIALS = re.compile(
    r"(vk_(?:live|test)_\w+|whsec_\w+|[Bb]earer\s+\S+|(?<=[?&])(?:sig|signature|token|key)=[^&\s]+)"
)


def explain(error: ApiError) -> str:
    """What an operator should do about an error the API answered, with the API's own words."""
    hint = CONFIGURATION_HINTS.get(type(error), f"the API answered {error.status} {error.code}")
    if error.upstream_message:
        return f"{hint}; the API said: {error.upstream_message}"
    return hint


def upstream_message(body: object) -> str | None:
    """The `message` of an error body, on one line, trimmed, with credentials blanked."""
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        return None
    text = _CREDENTIALS.sub("***", " ".join(message.split()))
    if len(text) > MAX_UPSTREAM_MESSAGE:
        text = text[: MAX_UPSTREAM_MESSAGE - 1] + "…"
    return text


@dataclass(frozen=True)
class Generation:
    """A generation as `GET /v1/generations/:id` shows it."""

    id: str
    status: str
    duration_sec: float | None
    download_url: str | None
    error: str | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Generation:
        duration = document.get("durationSec")
        return cls(
            id=str(document["id"]),
            status=str(document.get("status", "")),
            duration_sec=float(duration) if isinstance(duration, int | float) else None,
            download_url=document.get("downloadUrl") or None,
            error=document.get("error") or None,
            raw=dict(document),
        )


@dataclass(frozen=True)
class SubmittedGeneration:
    id: str
    status: str
    estimated_credits: int | None


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error response of the contract (or a generic one)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("error", "")) if isinstance(body, dict) else ""
    status = response.status_code
    if status == 429:
        retry_after = body.get("retryAfter") if isinstance(body, dict) else None
        seconds = float(retry_after) if isinstance(retry_after, int | float) else 60.0
        return RateLimited(code or "rate_limit_exceeded", status, retry_after=seconds)
    if status >= 500:
        return ServerError(code or f"http_{status}", status)
    message = upstream_message(body)
    known = _ERRORS.get((status, code))
    if known is not None:
        return known(code, status, upstream_message=message)
    if status == 403:
        return PublicApiRequiresScale(code or "forbidden", status, upstream_message=message)
    return ApiError(code or f"http_{status}", status, upstream_message=message)


class VpaiClient:
    """The upstream API, spent from the shared budget."""

    def __init__(
        self,
        http: httpx.Client,
        budget: ApiBudget,
        *,
        max_budget_wait_seconds: float = 2.0,
    ) -> None:
        self._http = http
        self._budget = budget
        self._max_wait = max_budget_wait_seconds

    @property
    def budget(self) -> ApiBudget:
        return self._budget

    @property
    def max_budget_wait_seconds(self) -> float:
        return self._max_wait

    def list_voices(self) -> list[dict[str, Any]]:
        items = self._call("GET", "voices").get("items", [])
        return [item for item in items if isinstance(item, dict)]

    def submit_generation(
        self, voice_id: str, script: str, audio_format: str, settings: Mapping[str, Any]
    ) -> SubmittedGeneration:
        body: dict[str, Any] = {"voiceId": voice_id, "script": script, "format": audio_format}
        if settings:
            body["settings"] = dict(settings)
        answer = self._call("POST", "generations", json=body)
        credits = answer.get("estimatedCredits")
        return SubmittedGeneration(
            id=str(answer["id"]),
            status=str(answer.get("status", "queued")),
            estimated_credits=int(credits) if isinstance(credits, int | float) else None,
        )

    def get_generation(
        self, generation_id: str, priority: Priority = Priority.NORMAL
    ) -> Generation:
        return Generation.from_json(
            self._call("GET", f"generations/{generation_id}", priority=priority)
        )

    def upload(self, filename: str, content: bytes) -> str:
        answer = self._call("POST", "uploads", params={"filename": filename}, content=content)
        return str(answer["path"])

    def clone_voice(self, sample_paths: list[str]) -> str:
        return str(self._call("POST", "voices/clone", json={"samplePaths": sample_paths})["id"])

    def _call(
        self, method: str, path: str, *, priority: Priority = Priority.NORMAL, **request: Any
    ) -> dict[str, Any]:
        wait = self._budget.acquire(priority, max_wait_seconds=self._max_wait)
        if wait > 0:
            metrics.BUDGET_POSTPONED.inc()
            raise BudgetExhausted(wait)
        endpoint = metrics.endpoint_label(path)
        # The span's name is the endpoint's template (no ids in it); the path is an attribute.
        with span(f"vpai {method} {endpoint}", **{"http.request.method": method, "url.path": path}):
            try:
                response = self._request(method, path, request)
            except (NetworkError, AnswerLost):
                metrics.UPSTREAM_REQUESTS.labels(method, endpoint, "error").inc()
                raise
            annotate(**{"http.response.status_code": response.status_code})
        metrics.UPSTREAM_REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        if response.status_code >= 400:
            error = error_for(response)
            if isinstance(error, RateLimited):
                metrics.UPSTREAM_RATE_LIMITED.inc()
                metrics.UPSTREAM_PAUSE_SECONDS.inc(error.retry_after)
                self._budget.block_for(error.retry_after)
            log.warning(
                "vpai.error", method=method, path=path, status=error.status, code=error.code
            )
            raise error
        document = response.json()
        if not isinstance(document, dict):
            raise ServerError("unexpected_body", response.status_code)
        return document

    def _request(self, method: str, path: str, request: dict[str, Any]) -> httpx.Response:
        try:
            return self._http.request(method, path, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NetworkError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:
            raise AnswerLost(f"{method} {path}: {type(exc).__name__}: {exc}") from exc


def api_http_client(base_url: str, api_key: str, timeout_seconds: float) -> httpx.Client:
    """The client for the API base URL only: it carries the key."""
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=timeout_seconds,
        follow_redirects=False,
    )
