"""Errors the processors raise on purpose. Imports nothing internal, so every module may raise them.

The class says what the caller should do; the message says what happened, for logs. Messages
never carry a signed URL's query string (its signature is a credential for ten minutes).
"""

from __future__ import annotations


class ProcessingError(Exception):
    """Base class for every error the processors raise on purpose."""


class DownloadError(ProcessingError):
    """Raised when audio could not be downloaded; the subclass says what to do next."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class DisallowedUrl(DownloadError):
    """Raised when a URL or a redirect is not plain http(s) on an allowed host; never followed."""


class DownloadRefused(DownloadError):
    """Raised when the server refuses the URL (401/403/404/410): fetch a fresh URL, then retry."""


class DownloadFailed(DownloadError):
    """Raised on network errors, time-outs, other bad statuses or a truncated body: retry later."""


class DownloadTooLarge(DownloadError):
    """Raised when the declared or received size exceeds the limit; retrying will not help."""


class AudioInvalid(ProcessingError):
    """Raised when a file is not the audio it claims: bad magic bytes, unreadable, wrong length."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentFailure(ProcessingError):
    """Raised when an event cannot be processed and waiting will not change that."""


class RetryLater(ProcessingError):
    """Raised when time will fix it (budget, upstream hiccup): try again after `delay_seconds`."""

    def __init__(self, delay_seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.delay_seconds = max(0.0, delay_seconds)


class ApiError(ProcessingError):
    """Raised when the Voice Production AI API answers with an error (`code`, HTTP `status`)."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"{status} {code}")
        self.code = code
        self.status = status


class InvalidRequest(ApiError):
    """Raised on 400 `invalid_request`: the request itself is wrong."""


class Unauthorized(ApiError):
    """Raised on 401 `unauthorized`: the API key is missing or wrong."""


class InsufficientCredits(ApiError):
    """Raised on 402 `insufficient_credits`."""


class PublicApiRequiresScale(ApiError):
    """Raised on 403 `public_api_requires_scale`: the workspace is not on the Scale plan."""


class CloningRequiresPaidPlan(ApiError):
    """Raised on 403 `cloning_requires_paid_plan`."""


class NotFound(ApiError):
    """Raised on 404 `not_found`."""


class TransientApiError(ApiError):
    """Raised when the call may succeed later; `retry_after_seconds` says when to try."""

    retry_after_seconds: float = 10.0


class RateLimited(TransientApiError):
    """Raised on 429 `rate_limit_exceeded`; not a failed attempt, just a wait."""

    def __init__(self, code: str, status: int, *, retry_after: float) -> None:
        super().__init__(code, status)
        self.retry_after = retry_after
        self.retry_after_seconds = retry_after


class ServerError(TransientApiError):
    """Raised on a 5xx answer (or a body that is not the contract's)."""


class NetworkError(TransientApiError):
    """Raised when the API could not be reached or did not answer in time."""

    def __init__(self, detail: str) -> None:
        super().__init__("network_error", 0)
        self.detail = detail

    def __str__(self) -> str:
        return f"network error: {self.detail}"


class AnswerLost(NetworkError):
    """Raised when a request may have reached the API but no answer came (a read timeout,
    a dropped connection): what it did upstream is unknown."""


class BudgetExhausted(TransientApiError):
    """Raised when no slot of the shared API budget is free soon enough; nothing was sent."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__("budget_exhausted", 0)
        self.retry_after_seconds = wait_seconds

    def __str__(self) -> str:
        return f"API budget exhausted for {self.retry_after_seconds:.1f}s"


class AdoptionRefused(Exception):
    """Raised when a generation cannot be adopted by the job an operator named."""
