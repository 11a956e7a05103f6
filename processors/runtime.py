"""The one processing context of a worker process, set once at start-up."""

from __future__ import annotations

from processors.context import ProcessorContext
from processors.errors import WorkerNotStarted

_context: ProcessorContext | None = None


def install_context(context: ProcessorContext) -> None:
    global _context  # noqa: PLW0603 - one per process, set once before any message runs
    _context = context


def current_context() -> ProcessorContext:
    if _context is None:
        raise WorkerNotStarted("the worker's processing context was not installed")
    return _context
