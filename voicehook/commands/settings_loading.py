"""The settings a command runs with: log lines to stderr (never stdout), and the Redis of a
`voicehook dev` running from this folder when REDIS_URL is unset."""

from __future__ import annotations

from config.settings import Settings
from voicehook.dev_files import VAR


def load_settings() -> Settings:
    """The settings, with log lines sent to stderr (stdout is for output, e.g. --json).

    The reads, which log nothing, take `Settings()` and skip this (and structlog's import).
    """
    from config.logging import configure_logging  # noqa: PLC0415 - start-up time (structlog)

    settings = Settings()
    configure_logging(settings)
    return settings


def redis_url(settings: Settings) -> str | None:
    """REDIS_URL, or the embedded Redis of a `voicehook dev` running from here."""
    # redis-py is loaded only to enqueue: the reads start without it.
    from voicehook.embedded_redis import running_embedded_url  # noqa: PLC0415 - start-up time

    return settings.redis_url or running_embedded_url(VAR / "redis")
