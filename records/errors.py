"""Errors of the records: envelopes that are not webhooks, lookups that find nothing, rows
the database refuses.

Imports nothing internal but the root errors, so every package may import it.
"""

from __future__ import annotations

from config.errors import StorageUnavailable, VoicehookError


class RecordsError(VoicehookError):
    """Raised when a record cannot be read, parsed or stored as asked; the base of this package."""


class InvalidPayload(RecordsError):
    """Raised when a verified body is not a webhook envelope (`event` string, `data` object)."""


class StaleTimestamp(RecordsError):
    """Raised when the freshness window is on and the body's timestamp is outside it."""


class NaiveDatetime(RecordsError):
    """Raised when a datetime without a zone is given to a UTC column (a bug in the caller)."""


class UnknownCustomer(RecordsError):
    """Raised when a job or a voice names a customer that does not exist."""


class UnknownId(RecordsError):
    """Raised when no row's id is, or starts with, what was given."""


class AmbiguousId(RecordsError):
    """Raised when a prefix matches more than one row; `matches` lists a few of them."""

    def __init__(self, given: str, matches: list[str]) -> None:
        super().__init__(f"{given!r} matches {', '.join(matches)}…; give more of the id")
        self.matches = matches


class UnstorableRows(StorageUnavailable):
    """Raised when the database refused the data of a batch (not its connection): one of its
    deliveries may be at fault, and the others store without it."""


class EnvironmentEndpoint(RecordsError):
    """Raised when an endpoint of NOTIFY_URLS is changed by hand (change the environment)."""


class IdempotencyKeyReused(RecordsError):
    """Raised when an Idempotency-Key comes back with a different request body."""


class DuplicateExternalRef(RecordsError):
    """Raised when a customer already has a job with this externalRef; `job_id` names it."""

    def __init__(self, external_ref: str, job_id: str) -> None:
        super().__init__(
            f"this customer already has job {job_id} with externalRef {external_ref!r}"
        )
        self.job_id = job_id
