"""Processor fixtures: a sandbox over real HTTP, a real Redis, a migrated database."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.broker import build_broker, schedule_submission
from processors.worker import ProcessorContext, build_context
from tests.conftest import make_settings
from tests.processors.flow import Sandbox


@pytest.fixture
def ctx(
    database_url: str,
    redis_url: str,
    migrated_engine: Engine,
    vpai: Sandbox,
    tmp_path: Path,
) -> ProcessorContext:
    """The worker's context on the parametrised database, the sandbox and a real Redis."""
    settings = make_settings(
        database_url,
        redis_url,
        vpai_api_base_url=vpai.server.api_base_url,
        vpai_api_key=vpai.server.api_key,
        audio_dir=tmp_path / "audio",
    )
    context = build_context(settings, migrated_engine)
    context.schedule_submission = partial(schedule_submission, build_broker(settings))
    return context
