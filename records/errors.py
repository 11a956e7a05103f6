"""Errors of the records: envelopes that are not webhooks, and lookups that find nothing.

Imports nothing internal but the root error, so every package may import it.
"""

from __future__ import annotations

from config.errors import VoicehookError


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


class EnvironmentEndpoint(RecordsError):
    """Raised when an endpoint of NOTIFY_URLS is changed by hand (change the environment)."""
