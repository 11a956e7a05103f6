"""`voicehook customers` and `voicehook jobs` as a script uses them (--json), in-process."""

from __future__ import annotations

import orjson
from sqlalchemy import update

from config.database import make_engine
from records.jobs import Job
from tests.conftest import make_settings
from tests.ops.conftest import run_cli
from tests.receiver.test_internal_api import submissions_queued


class TestJobsCli:
    def test_submit_list_show_and_resume(
        self, sqlite_url: str, redis_url: str, tmp_path: object
    ) -> None:
        """A customer and a job from the CLI; a blocked job resumed and enqueued again."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        assert run_cli("db", "upgrade", env=env).returncode == 0
        added = run_cli("customers", "add", "acme", "Acme Ltd", "--json", env=env)
        assert orjson.loads(added.stdout)["created"] is True
        submitted = run_cli(
            "jobs", "submit", "--customer", "acme", "--voice", "v1", "--script", "Hi.",
            "--format", "wav", "--json", env=env,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        job_id = orjson.loads(submitted.stdout)["id"]
        assert submissions_queued(redis_url) == [job_id]

        listed = orjson.loads(run_cli("jobs", "list", "--json", env=env).stdout)
        assert [j["id"] for j in listed] == [job_id]
        shown = orjson.loads(run_cli("jobs", "show", job_id, "--json", env=env).stdout)
        assert shown["status"] == "pending"
        assert shown["format"] == "wav"

        engine = make_engine(make_settings(sqlite_url))
        with engine.begin() as conn:
            conn.execute(update(Job).values(status="blocked", last_error="insufficient credits"))
        resumed = orjson.loads(run_cli("jobs", "resume", "--json", env=env).stdout)
        assert resumed == {"resumed": [job_id]}
        assert submissions_queued(redis_url) == [job_id, job_id]
        shown = orjson.loads(run_cli("jobs", "show", job_id, "--json", env=env).stdout)
        assert shown["status"] == "pending"
        assert shown["lastError"] is None

    def test_unknown_customer_and_bad_input_are_clear_errors(
        self, sqlite_url: str, redis_url: str
    ) -> None:
        """A job for nobody, or with a bad format, exits non-zero and says why."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        run_cli("db", "upgrade", env=env)
        nobody = run_cli(
            "jobs", "submit", "--customer", "ghost", "--voice", "v", "--script", "x", env=env
        )
        assert nobody.returncode == 1
        assert "customers add" in nobody.stderr
        run_cli("customers", "add", "acme", "Acme", env=env)
        bad = run_cli(
            "jobs", "submit", "--customer", "acme", "--voice", "v", "--script", "x",
            "--format", "ogg", env=env,
        )  # fmt: skip
        assert bad.returncode == 2
        assert "format" in bad.stderr
