"""`voicehook web` and `voicehook sweeper` run in this process until SIGTERM (the Procfile's
processes themselves are in test_cli_processes.py and test_procfile.py): they refuse bad
configuration with exit 2, serve, and stop cleanly."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from config.redis_connection import redis_client
from sweeper.last_round import read_last_round
from tests.cli_in_process import run_cli, run_until_stopped
from tests.conftest import SECRET
from tests.receiver.conftest import envelope, post
from tests.services import answers_health, free_port
from tests.waiting import wait_until


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


class TestRefusals:
    @pytest.mark.parametrize("command", ["web", "sweeper"])
    def test_invalid_settings_are_exit_2(self, command: str, sqlite_url: str) -> None:
        ran = run_cli(command, env={"DATABASE_URL": sqlite_url, "PORT": "eighty"})
        assert ran.returncode == 2
        assert ran.stderr.startswith("voicehook: ")
        assert "PORT" in ran.stderr

    def test_web_without_a_secret(self, sqlite_url: str, redis_url: str) -> None:
        """No VPAI_WEBHOOK_SECRETS: exit 2 with a message naming the variable."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url, "VPAI_WEBHOOK_SECRETS": ""}
        ran = run_cli("web", env=env)
        assert ran.returncode == 2
        assert "VPAI_WEBHOOK_SECRETS is not set" in ran.stderr

    @pytest.mark.parametrize("command", ["web", "sweeper"])
    def test_without_redis(self, command: str, sqlite_url: str) -> None:
        """No REDIS_URL outside `dev`: exit 2 saying how to get an embedded one."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": "", "VPAI_WEBHOOK_SECRETS": SECRET}
        ran = run_cli(command, env=env)
        assert ran.returncode == 2
        assert ran.stderr.startswith(f"voicehook {command}: ")
        assert "REDIS_URL is not set" in ran.stderr


class TestServing:
    def test_web_accepts_a_webhook_until_sigterm(
        self, sqlite_url: str, sqlite_engine: Engine, redis_url: str
    ) -> None:
        """`web` on $PORT: healthy, ready, a signed webhook accepted; SIGTERM is exit 0."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        answered: list[int] = []

        def deliver() -> None:
            wait_until(lambda: answers_health(url), description="web answers /healthz")
            with httpx.Client(base_url=url, timeout=30) as client:
                answered.append(post(client, envelope(resource_id="in-process")).status_code)
                answered.append(client.get("/readyz").status_code)

        env = {
            "DATABASE_URL": sqlite_url,
            "REDIS_URL": redis_url,
            "VPAI_WEBHOOK_SECRETS": SECRET,
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
        }
        ran = run_until_stopped("web", "--host", "127.0.0.1", env=env, driver=deliver)
        assert ran.returncode == 0, ran.stderr
        assert answered == [202, 200]
        assert not answers_health(url)

    def test_sweeper_records_rounds_and_serves_metrics_until_sigterm(
        self, sqlite_url: str, sqlite_engine: Engine, redis_url: str
    ) -> None:
        """`sweeper` runs its rounds (the last one recorded for the dashboard) and serves
        /metrics; SIGTERM ends it with exit 0 and its metrics server closed."""
        port = free_port()
        metrics = f"http://127.0.0.1:{port}/metrics"

        def watch() -> None:
            wait_until(lambda: read_last_round(redis_client(redis_url)), description="a round")
            wait_until(lambda: answers(metrics), description="the sweeper's /metrics")

        env = {
            "DATABASE_URL": sqlite_url,
            "REDIS_URL": redis_url,
            "SWEEPER_METRICS_PORT": str(port),
            "SWEEPER_INTERVAL_SECONDS": "0.5",
        }
        ran = run_until_stopped("sweeper", env=env, driver=watch)
        assert ran.returncode == 0, ran.stderr
        assert not answers(metrics)
