"""Errors the processors raise on purpose. Imports nothing internal but the root error, so every
module may raise them.

The class says what the caller should do; the message says what happened, for logs. Messages
never carry a signed URL's query string (its signature is a credential for ten minutes).
"""

from __future__ import annotations

from config.errors import VoicehookError


class ProcessingError(VoicehookError):
    """Raised when an event or a job cannot be processed as asked; the base of this package."""


class WorkerNotStarted(ProcessingError):
    """Raised when an actor runs in a process whose worker start-up has not installed a context."""


class UnknownAudioFormat(ProcessingError):
    """Raised when asked to inspect audio of a format other than mp3 or wav."""


class InvalidAllowedHost(ProcessingError):
    """Raised when a `DOWNLOAD_ALLOWED_HOSTS` entry is not `host` or `host:port`."""


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
    """Raised when a download met a network error, time-out, bad status or short body: retry."""


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


class DatabaseBusy(RetryLater):
    """Raised when the database could not serve a step right now (locked, timed out, gone)."""


class SubmissionInFlight(RetryLater):
    """Raised when a webhook may belong to a submission whose commit has not landed yet."""


class ApiError(ProcessingError):
    """Raised when the Voice Production AI API answers with an error (`code`, HTTP `status`);
    `upstream_message` is the API's own words about it, trimmed and scrubbed, when it sent any."""

    def __init__(self, code: str, status: int, *, upstream_message: str | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.code = code
        self.status = status
        self.upstream_message = upstream_message


class InvalidRequest(ApiError):
    """Raised when the API answers 400 `invalid_request`: the request itself is wrong."""


class Unauthorized(ApiError):
    """Raised when the API answers 401 `unauthorized`: the API key is missing or wrong."""


class InsufficientCredits(ApiError):
    """Raised when the API answers 402 `insufficient_credits`."""


class PublicApiRequiresScale(ApiError):
    """Raised when the API answers 403 `public_api_requires_scale`: not on the Scale plan."""


class CloningRequiresPaidPlan(ApiError):
    """Raised when the API answers 403 `cloning_requires_paid_plan`."""


class NotFound(ApiError):
    """Raised when the API answers 404 `not_found`."""


class TransientApiError(ApiError):
    """Raised when the call may succeed later; `retry_after_seconds` says when to try."""

    retry_after_seconds: float = 10.0


class RateLimited(TransientApiError):
    """Raised when the API answers 429 `rate_limit_exceeded`; not a failed attempt, a wait."""

    def __init__(self, code: str, status: int, *, retry_after: float) -> None:
        super().__init__(code, status)
        self.retry_after = retry_after
        self.retry_after_seconds = retry_after


class ServerError(TransientApiError):
    """Raised when the API answers a 5xx (or a body that is not the contract's)."""


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


class AdoptionRefused(ProcessingError):
    """Raised when a generation cannot be adopted by the job an operator named."""


class DisallowedNotifyUrl(ProcessingError):
    """Raised when a notification endpoint's URL is not plain http(s), is off the allow-list,
    or resolves to a link-local or cloud-metadata address; nothing is sent to it."""
