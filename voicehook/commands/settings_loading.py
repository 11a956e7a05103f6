"""The settings a command that may log runs with: log lines go to stderr, never stdout."""

from __future__ import annotations

from config.settings import Settings


def load_settings() -> Settings:
    """The settings, with log lines sent to stderr (stdout is for output, e.g. --json).

    The reads, which log nothing, take `Settings()` and skip this (and structlog's import).
    """
    from config.logging import configure_logging  # noqa: PLC0415 - start-up time (structlog)

    settings = Settings()
    configure_logging(settings)
    return settings
