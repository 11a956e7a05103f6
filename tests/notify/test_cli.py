"""`voicehook endpoints …` and `voicehook notifications …`, in process, on both databases."""

from __future__ import annotations

from typing import Any

import orjson
import redis
from sqlalchemy import Engine

from tests.notify.app_endpoint import running_app_endpoint
from tests.notify.conftest import deliver_until_settled, make_ready_job, notifier_for
from tests.ops.conftest import cli_env, run_cli


def as_json(*args: str, env: dict[str, str]) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


class TestEndpointsCommands:
    def test_add_list_rotate_remove(self, migrated_engine: Engine, database_url: str) -> None:
        """An added endpoint gets a secret, a filter, a rotation, and can be removed."""
        env = cli_env(
            database_url, NOTIFY_URLS="http://127.0.0.1:9/env", NOTIFY_SECRET="whsec_" + "A" * 24
        )
        added = as_json(
            "endpoints", "add", "https://app.example/hooks", "--event-type", "job.ready", env=env
        )
        assert added["secret"].startswith("whsec_")
        listed = as_json("endpoints", "list", env=env)  # oldest first: NOTIFY_URLS synced now
        assert [(e["url"], e["source"], e["event_types"]) for e in listed] == [
            ("https://app.example/hooks", "db", ["job.ready"]),
            ("http://127.0.0.1:9/env", "env", []),
        ]
        assert "secret" not in listed[0]
        rotated = as_json("endpoints", "rotate-secret", added["id"], env=env)
        assert rotated["secret"] != added["secret"]
        assert as_json("endpoints", "list", env=env)[0]["rotating_until"] is not None
        refused = run_cli("endpoints", "remove", listed[1]["id"], env=env)
        assert refused.returncode == 2
        assert "NOTIFY_URLS" in refused.stderr
        assert run_cli("endpoints", "remove", added["id"], env=env).returncode == 0
        assert len(as_json("endpoints", "list", env=env)) == 1

    def test_bad_input_is_refused(self, migrated_engine: Engine, database_url: str) -> None:
        """A URL with credentials, an unknown type or a malformed secret exits 2."""
        env = cli_env(database_url)
        for args in (
            ("https://user:pw@app.example/h",),
            ("https://app.example/h", "--event-type", "job.exploded"),
            ("https://app.example/h", "--secret", "not-a-secret"),
        ):
            assert run_cli("endpoints", "add", *args, env=env).returncode == 2
        assert as_json("endpoints", "list", env=env) == []


class TestNotificationsCommands:
    def test_failed_ones_are_listed_and_resent(
        self, migrated_engine: Engine, database_url: str, redis_url: str, published: list[str]
    ) -> None:
        """`list --failed` shows dead letters; `resend` enqueues them under the same id."""
        with running_app_endpoint([]) as refusing:  # knows no secret: answers 401
            notifier = notifier_for(
                migrated_engine, database_url, [refusing.url], notify_max_attempts=1
            )
            make_ready_job(migrated_engine)
            assert deliver_until_settled(notifier, published) == ["dead-lettered"] * 2
        env = cli_env(database_url, redis_url)
        failed = as_json("notifications", "list", "--failed", env=env)
        assert sorted(row["event_type"] for row in failed) == [
            "customer.usage_updated",
            "job.ready",
        ]
        assert {row["last_status_code"] for row in failed} == {401}
        job_ready = next(row for row in failed if row["event_type"] == "job.ready")
        ran = run_cli("notifications", "resend", job_ready["notification_id"], env=env)
        assert ran.returncode == 0, ran.stderr
        queued = redis.Redis.from_url(redis_url).lrange("dramatiq:notifications", 0, -1)
        assert len(queued) == 1
        assert len(as_json("notifications", "list", "--failed", env=env)) == 1
        assert (
            as_json("notifications", "list", "--status", "pending", env=env)[0]["delivery_id"]
            == job_ready["delivery_id"]
        )
        assert run_cli("notifications", "resend", "msg_unknown", env=env).returncode == 1
