"""Errors shared by every package. Imports nothing internal, so anyone may import it."""


class VoicehookError(Exception):
    """Base class for every error voicehook raises on purpose."""


class ConfigurationError(VoicehookError):
    """Raised when the settings cannot run the requested process (missing secret, bad URL)."""


class StorageUnavailable(VoicehookError):
    """Raised when the database could not make an event durable (down, locked, timed out)."""


class BrokerUnavailable(VoicehookError):
    """Raised when the Redis broker could not take a message."""
