"""The benchmark's errors; imports nothing internal but the root error, so every module can
raise them."""

from config.errors import VoicehookError


class BenchError(VoicehookError):
    """Raised when a benchmark cannot run or its results cannot be trusted."""


class WrkMissing(BenchError):
    """Raised when the `wrk` load generator is not installed."""


class WrkOutputError(BenchError):
    """Raised when wrk's output lacks the figures the bench script should have printed."""
