"""Sweeper fixtures: the processors' context (a sandbox, a real Redis, a database)."""

from tests.processors.conftest import ctx

__all__ = ["ctx"]
