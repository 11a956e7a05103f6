"""The settings a command runs with: log lines to stderr (never stdout), and the Redis of a
`voicehook dev` running from this folder when REDIS_URL is unset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicehook.dev_files import VAR

if TYPE_CHECKING:
    from config.settings import Settings


def load_settings() -> Settings:
    """The settings, with log lines sent to stderr (stdout is for output, e.g. --json).

    The reads, which log nothing and need the database's settings only, take
    `read_database_settings()` and skip this (and the imports of structlog and
    pydantic-settings).
    """
    from config.logging import configure_logging  # noqa: PLC0415 - start-up time (structlog)
    from config.settings import Settings  # noqa: PLC0415 - the reads' modules import this one

    settings = Settings()
    configure_logging(settings)
    return settings


def redis_url(settings: Settings) -> str | None:
    """REDIS_URL, or the embedded Redis of a `voicehook dev` running from here."""
    # redis-py is loaded only to enqueue: the reads start without it.
    from voicehook.embedded_redis import running_embedded_url  # noqa: PLC0415 - start-up time

    return settings.redis_url or running_embedded_url(VAR / "redis")
