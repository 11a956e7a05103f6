"""The wrk script against a real server: counts, and no body is ever sent twice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.bare import WEBHOOK_PATH as BARE_PATH
from bench.bodies import write_body_files
from bench.ingest import BARE_FACTORY
from bench.loadgen import BodyMode, LoadShape, run_wrk, wrk_command
from bench.servers import Server, running_server
from receiver.app import WEBHOOK_PATH

SHAPE = LoadShape(threads=2, connections=4)


@pytest.fixture
def bare_server(tmp_path: Path) -> Iterator[Server]:
    with running_server(
        BARE_FACTORY, workers=1, env=dict(os.environ), log_path=tmp_path / "bare.log"
    ) as server:
        yield server


def test_bare_app_serves_the_webhook_path() -> None:
    """The baseline answers where the receiver does."""
    assert BARE_PATH == WEBHOOK_PATH


def test_once_mode_stops_when_bodies_run_out(wrk: str, bare_server: Server, tmp_path: Path) -> None:
    """Each body goes out once; running out is counted and shows as non-2xx, never resent."""
    bodies = write_body_files(tmp_path / "bodies", "once", SHAPE.threads, 50, b"secret")
    command = wrk_command(
        wrk,
        bare_server.base_url + WEBHOOK_PATH,
        bodies=bodies,
        mode=BodyMode.ONCE,
        shape=SHAPE,
        seconds=1,
    )
    report = run_wrk(command, bare_server.cpu_seconds).report
    assert report.sent == 100
    assert report.exhausted >= 1
    assert report.acknowledged <= 100


def test_cycle_mode_keeps_going(wrk: str, bare_server: Server, tmp_path: Path) -> None:
    """The stateless baseline reuses its bodies and reports a clean run."""
    bodies = write_body_files(tmp_path / "bodies", "cycle", SHAPE.threads, 50, b"secret")
    command = wrk_command(
        wrk,
        bare_server.base_url + WEBHOOK_PATH,
        bodies=bodies,
        mode=BodyMode.CYCLE,
        shape=SHAPE,
        seconds=1,
    )
    run = run_wrk(command, bare_server.cpu_seconds)
    assert run.report.sent > 100
    assert run.report.errors == 0
    assert run.report.exhausted == 0
    assert run.report.p50_us > 0
    assert run.server_cpu_seconds > 0
