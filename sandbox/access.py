"""Who may call the public API, and in which order the checks answer.

Order, for every `/v1` request: 401 `unauthorized` (key) → 403 `cloning_requires_paid_plan`
(clone endpoint, Free plan) → 403 `public_api_requires_scale` (any plan but Scale) → 429
`rate_limit_exceeded` (forced, then the sliding window) → injected 5xx → the endpoint's own
checks: 400 `invalid_request` → 404 `not_found` → 402 `insufficient_credits`.
Cloning is checked before Scale because it is the more fundamental refusal: a Free workspace
cannot clone through any door, a Pro one could clone in the app but not through the API.
Requests refused before the rate limiter (401, 403) are not counted against the budget.
"""

from __future__ import annotations

from sandbox.errors import (
    CloningRequiresPaidPlan,
    InjectedServerError,
    PublicApiRequiresScale,
    RateLimitExceeded,
    Unauthorized,
)
from sandbox.models import Plan, Workspace
from sandbox.runtime import Sandbox

INJECTED_STATUSES = (500, 502, 503)


def bearer_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def check_plan(plan: Plan, *, cloning: bool) -> None:
    """Raise the 403 the plan earns for this endpoint, if any."""
    if cloning and plan is Plan.FREE:
        raise CloningRequiresPaidPlan()
    if plan is not Plan.SCALE:
        raise PublicApiRequiresScale()


def admit(sandbox: Sandbox, authorization: str | None, *, cloning: bool = False) -> Workspace:
    """Run the checks every `/v1` request goes through; return the caller's workspace."""
    key = bearer_key(authorization)
    workspace = sandbox.state.workspace_for_key(key) if key else None
    if workspace is None:
        raise Unauthorized()
    check_plan(workspace.plan, cloning=cloning)
    forced = sandbox.faults.take_forced("force_429")
    if forced or not sandbox.limiter.acquire(workspace.id, sandbox.clock.monotonic()):
        workspace.requests_rate_limited += 1
        raise RateLimitExceeded(sandbox.limiter.retry_after())
    workspace.requests_served += 1
    if sandbox.faults.take_forced("force_500"):
        raise InjectedServerError(500)
    if sandbox.faults.strikes("api_error_rate"):
        raise InjectedServerError(
            sandbox.faults.stream("api_error_status").choice(INJECTED_STATUSES)
        )
    return workspace
