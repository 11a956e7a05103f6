"""The root of every error voicehook raises on purpose. Imports nothing, so anyone may import it.

Each package declares its own errors in its own `errors.py`, under a base of its own that
descends from `VoicehookError` (`RecordsError`, `ReceiverError`, `ProcessingError`,
`SandboxError`, `CommandError`, `BenchError`); an errors module imports nothing internal
but this one. A stdlib base is kept only as a mixin where callers rely on it (pydantic turns a
`ValueError` raised in a validator into a validation error). The errors below are shared by
more than one package.
"""


class VoicehookError(Exception):
    """Raised when voicehook fails on purpose; the base class of every error it defines."""


class ConfigurationError(VoicehookError):
    """Raised when the settings cannot run the requested process (missing secret, bad URL)."""


class StorageUnavailable(VoicehookError):
    """Raised when the database could not make an event durable (down, locked, timed out)."""


class BrokerUnavailable(VoicehookError):
    """Raised when the Redis broker could not take a message."""
