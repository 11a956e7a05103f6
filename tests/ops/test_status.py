"""`voicehook status` and doctor's health checks, run in-process on a real database and Redis."""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import Engine

from config.redis_connection import redis_client
from records.types import utcnow
from tests.monitoring.rows import add_endpoint, add_event, add_job
from tests.ops.conftest import cli_env, run_cli


def troubled(engine: Engine, redis_url: str) -> None:
    """A deployment with something wrong in every way status and doctor report."""
    add_event(engine, "failed")
    add_event(engine, "queued", age=timedelta(hours=3))  # old, and untouched: lost
    add_job(engine, "blocked")
    add_endpoint(engine, "http://app.example/hooks", flagged_at=utcnow())
    redis_client(redis_url).zadd("dramatiq:events.XQ", {"m1": 1, "m2": 2})


class TestStatus:
    def test_json_has_every_signal(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """`--json`: counts, queues, dead letters, budget and each alert's condition."""
        troubled(migrated_engine, redis_url)
        env = cli_env(database_url, redis_url, VPAI_API_KEY="vk_test_status")
        result = run_cli("status", "--json", env=env)
        assert result.returncode == 0, result.stderr
        document = orjson.loads(result.stdout)
        assert document["events"] == {"failed": 1, "queued": 1}
        assert document["jobs"] == {"blocked": 1}
        assert document["deadLetters"] == 2
        assert document["queues"]["events"]["dead"] == 2
        assert document["stuckEvents"] == 1
        assert document["flaggedEndpoints"] == ["http://app.example/hooks"]
        assert document["oldestUnprocessedAgeSeconds"] > 2 * 3600
        assert document["budget"]["limit"] == 60
        alerts = {name: a["active"] for name, a in document["alerts"].items()}
        assert alerts["dead_letters"] is True
        assert alerts["events_waiting"] is True
        assert alerts["events_stuck"] is True
        assert alerts["endpoints_flagged"] is True
        assert alerts["rate_limited"] is False

    def test_screen(self, migrated_engine: Engine, database_url: str, redis_url: str) -> None:
        """The screen names the dead letters and the firing alerts."""
        troubled(migrated_engine, redis_url)
        result = run_cli("status", env=cli_env(database_url, redis_url))
        assert result.returncode == 0, result.stderr
        assert "FIRING" in result.stdout
        assert "dead_letters" in result.stdout
        assert "voicehook dead-letters list" in result.stdout
        assert "not read (no REDIS_URL or no VPAI_API_KEY)" in result.stdout

    def test_redis_down_is_one_line(self, migrated_engine: Engine, database_url: str) -> None:
        """Redis that does not answer: one line on stderr, exit 1."""
        result = run_cli("status", env=cli_env(database_url, "redis://127.0.0.1:1/0"))
        assert result.returncode == 1
        assert "Redis does not answer" in result.stderr


class TestDoctorHealth:
    def test_dead_letters_stuck_and_flagged_warn(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Each is a warning with the command that fixes it; doctor still passes."""
        troubled(migrated_engine, redis_url)
        result = run_cli("doctor", "--json", env=cli_env(database_url, redis_url))
        document = orjson.loads(result.stdout)
        found = {check["name"]: check for check in document["checks"]}
        dead = found["dead letters"]
        assert dead["status"] == "warn"
        assert "2 dead-lettered" in dead["message"]
        assert dead["facts"] == {"dead": {"events": 2}}
        assert "voicehook dead-letters list" in dead["fix"]
        assert "voicehook dead-letters requeue --all" in dead["fix"]
        assert found["stuck events"]["status"] == "warn"
        assert found["stuck events"]["facts"]["stuck"] == 1
        assert found["notify endpoints"]["status"] == "warn"
        assert "http://app.example/hooks" in found["notify endpoints"]["message"]
        assert "voicehook endpoints list" in found["notify endpoints"]["fix"]

    def test_healthy_is_ok(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Nothing dead, stuck or flagged: the three checks are ok."""
        result = run_cli("doctor", "--json", env=cli_env(database_url, redis_url))
        found = {check["name"]: check for check in orjson.loads(result.stdout)["checks"]}
        for name in ("dead letters", "stuck events", "notify endpoints"):
            assert found[name]["status"] == "ok", found[name]

    def test_unmigrated_database_skips_them(self, sqlite_url: str, redis_url: str) -> None:
        """No schema: the health checks are skipped, saying why."""
        result = run_cli("doctor", "--json", env=cli_env(sqlite_url, redis_url))
        found = {check["name"]: check for check in orjson.loads(result.stdout)["checks"]}
        assert found["dead letters"]["status"] == "skip"
        assert "database is not usable" in found["dead letters"]["message"]
