"""Start-up of a worker process: settings, logging, broker, processing context — in that order."""

from __future__ import annotations

from functools import partial

from config.broker import build_broker, schedule_submission
from config.logging import configure_logging
from config.settings import Settings
from processors.context import build_context
from processors.runtime import install_context


def bootstrap(settings: Settings | None = None) -> None:
    """Set the broker and the context; the actors module may be imported afterwards."""
    settings = settings or Settings()
    configure_logging(settings)
    broker = build_broker(settings)
    context = build_context(settings)
    context.schedule_submission = partial(schedule_submission, broker)
    install_context(context)
