"""Errors the sandbox answers with or stops on. Imports nothing internal but the root error, so
every module may raise them.
"""

from __future__ import annotations

from config.errors import VoicehookError


class SandboxError(VoicehookError):
    """Raised when the sandbox refuses or cannot do what it is asked; the base of this package."""


class AudioRenderError(SandboxError):
    """Raised when audio cannot be produced (espeak-ng required but missing or failing)."""


class DownloadCutOff(SandboxError):
    """Raised when a download fault cuts a response short, to drop the connection mid-body."""


class ApiKeyTaken(SandboxError):
    """Raised when a workspace is given an API key that already belongs to a workspace."""


class ClockBackwards(SandboxError):
    """Raised when the sandbox clock is asked to move back; deadlines computed so far hold."""


class InvalidLimit(SandboxError):
    """Raised when a rate limiter is given a limit or a window that is not positive."""


class ServerNotStarted(SandboxError):
    """Raised when a server run on a thread did not start listening in time."""


class ApiError(SandboxError):
    """Raised when a request is answered with `{"error": code}` and the class's HTTP status."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message

    def body(self) -> dict[str, object]:
        """`{"error": code}`, plus a sandbox-only `message` when there is one."""
        body: dict[str, object] = {"error": self.code}
        if self.message:
            body["message"] = self.message
        return body

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(ApiError):
    """Raised when a request body, query or path parameter is malformed."""

    status = 400
    code = "invalid_request"


class Unauthorized(ApiError):
    """Raised when the API key is missing or matches no workspace."""

    status = 401
    code = "unauthorized"


class InsufficientCredits(ApiError):
    """Raised when the workspace's balance is below a generation's estimated credits."""

    status = 402
    code = "insufficient_credits"


class PublicApiRequiresScale(ApiError):
    """Raised when a workspace that is not on the Scale plan calls the public API."""

    status = 403
    code = "public_api_requires_scale"


class CloningRequiresPaidPlan(ApiError):
    """Raised when a Free workspace asks to clone a voice."""

    status = 403
    code = "cloning_requires_paid_plan"


class InvalidUrlSignature(ApiError):
    """Raised when a download URL's signature does not match its path and expiry."""

    status = 403
    code = "invalid_signature"


class UrlExpired(ApiError):
    """Raised when a correctly signed download URL is past its expiry."""

    status = 403
    code = "url_expired"


class NotFound(ApiError):
    """Raised when the resource does not exist or belongs to another workspace."""

    status = 404
    code = "not_found"


class RateLimitExceeded(ApiError):
    """Raised when the workspace has used its request budget for the current window."""

    status = 429
    code = "rate_limit_exceeded"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        return {"error": self.code, "retryAfter": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InjectedServerError(ApiError):
    """Raised when fault injection answers a request with a 5xx instead of serving it."""

    code = "internal_error"

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status
