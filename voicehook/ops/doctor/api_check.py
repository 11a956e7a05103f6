"""The API check: one call with the key, from the shared budget like any other."""

from __future__ import annotations

import httpx
import redis

from config.redis_connection import redis_client
from config.settings import Settings
from processors.budget import ApiBudget, BudgetPolicy, workspace_name
from processors.errors import (
    ApiError,
    BudgetExhausted,
    NetworkError,
    RateLimited,
    ServerError,
    Unauthorized,
)
from processors.vpai import VpaiClient, api_http_client, explain
from voicehook.ops.doctor.model import Check, Status


def check_api(settings: Settings, redis_url: str | None) -> Check:
    """One `GET /v1/voices` with the key, taking a slot of the shared budget like any call."""
    key = settings.vpai_api_key.get_secret_value().strip() if settings.vpai_api_key else ""
    if not key:
        return Check("api", Status.SKIP, "not checked: VPAI_API_KEY is not set")
    if not redis_url:
        return Check("api", Status.SKIP, "not checked: the API budget lives in Redis, unreachable")
    base = settings.vpai_api_base_url
    budget = ApiBudget(
        redis_client(redis_url),
        workspace_name(settings, key),
        BudgetPolicy(
            settings.vpai_rate_limit,
            settings.vpai_rate_window_seconds,
            settings.vpai_rate_margin_seconds,
        ),
    )
    with api_http_client(base, key, settings.vpai_timeout_seconds) as http:
        try:
            voices = VpaiClient(http, budget, max_budget_wait_seconds=5.0).list_voices()
        except (ApiError, redis.RedisError, httpx.HTTPError, ValueError) as exc:
            return api_failure(base, exc)
    return Check(
        "api",
        Status.OK,
        f"{base} accepts the key ({len(voices)} voices)",
        facts={"voices": len(voices)},
    )


def api_failure(base: str, exc: Exception) -> Check:
    """What an error of the API check means, and what to do."""
    if isinstance(exc, Unauthorized):
        return Check(
            "api",
            Status.FAIL,
            f"{base} refused the API key (401 unauthorized)",
            "check VPAI_API_KEY: copy the key again from the workspace's settings",
        )
    if isinstance(exc, BudgetExhausted | RateLimited):
        return Check(
            "api",
            Status.WARN,
            "not checked: the shared budget of API requests is in use right now",
            "run `voicehook doctor` again in a minute",
        )
    if isinstance(exc, NetworkError):
        return Check(
            "api",
            Status.FAIL,
            f"cannot reach {base}: {exc}",
            "check VPAI_API_BASE_URL and the network (proxy, firewall, DNS)",
        )
    if isinstance(exc, ServerError):
        return Check("api", Status.WARN, f"{base} answered {exc}", "the API is in trouble; retry")
    if isinstance(exc, ApiError):
        return Check("api", Status.FAIL, f"{base} answered {exc}", explain(exc))
    return Check(
        "api",
        Status.FAIL,
        f"the API check could not run: {type(exc).__name__}: {exc}",
        "check VPAI_API_BASE_URL and REDIS_URL",
    )
