"""`voicehook customers` and `voicehook jobs` as a script uses them (--json), in-process."""

from __future__ import annotations

import orjson
from sqlalchemy import update

from config.database import make_engine
from records.customer_repo import upsert_customer
from records.jobs import JOBS
from records.submission_repo import start_submission
from records.unknown_outcomes import settle_unknown_submissions
from tests.conftest import make_settings
from tests.ops.conftest import run_cli
from tests.ops.test_job_actions import failed_job
from tests.processors.flow import new_job
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
            conn.execute(update(JOBS).values(status="blocked", last_error="insufficient credits"))
        resumed = orjson.loads(run_cli("jobs", "resume", "--json", env=env).stdout)
        assert resumed == {
            "action": "resume",
            "jobs": [{"id": job_id, "outcome": "done", "reason": None}],
            "enqueued": True,
        }
        assert submissions_queued(redis_url) == [job_id, job_id]
        shown = orjson.loads(run_cli("jobs", "show", job_id, "--json", env=env).stdout)
        assert shown["status"] == "pending"
        assert shown["lastError"] is None

    def test_retry_a_failed_job_and_refuse_the_rest(self, sqlite_url: str, redis_url: str) -> None:
        """`jobs retry` gives a failed job a new attempt and enqueues it; retrying it again
        (now pending) is refused with a reason and exits 1."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        assert run_cli("db", "upgrade", env=env).returncode == 0
        engine = make_engine(make_settings(sqlite_url))
        job_id = failed_job(engine)

        retried = run_cli("jobs", "retry", job_id, "--json", env=env)
        assert retried.returncode == 0, retried.stderr
        assert orjson.loads(retried.stdout)["jobs"] == [
            {"id": job_id, "outcome": "done", "reason": None}
        ]
        assert submissions_queued(redis_url) == [job_id]

        again = run_cli("jobs", "retry", job_id, env=env)
        assert again.returncode == 1
        assert "already pending" in again.stderr
        assert submissions_queued(redis_url) == [job_id]

        unnamed = run_cli("jobs", "retry", env=env)  # every failed job needs --all
        assert unnamed.returncode == 2
        assert "--all" in unnamed.stderr
        other = failed_job(engine)
        every = run_cli("jobs", "retry", "--all", "--json", env=env)
        assert every.returncode == 0, every.stderr
        assert [j["id"] for j in orjson.loads(every.stdout)["jobs"]] == [other]

    def test_submit_with_external_ref_and_metadata(self, sqlite_url: str, redis_url: str) -> None:
        """`--external-ref` and `--metadata` reach the job as POST /api/jobs takes them; a
        reused ref, bad JSON, a non-object or too-deep metadata are refused and store nothing."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        assert run_cli("db", "upgrade", env=env).returncode == 0
        run_cli("customers", "add", "acme", "Acme", env=env)
        base = ("jobs", "submit", "--customer", "acme", "--voice", "v1", "--script", "Hi.")
        submitted = run_cli(
            *base, "--external-ref", "order-7", "--metadata", '{"order": 7, "tags": ["a"]}',
            "--json", env=env,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        answer = orjson.loads(submitted.stdout)
        assert answer["externalRef"] == "order-7"
        shown = orjson.loads(run_cli("jobs", "show", answer["id"], "--json", env=env).stdout)
        assert (shown["externalRef"], shown["metadata"]) == ("order-7", {"order": 7, "tags": ["a"]})

        again = run_cli(*base, "--external-ref", "order-7", env=env)
        assert again.returncode == 1
        assert f"already has job {answer['id']}" in again.stderr
        refused = {
            ("--metadata", "{not json"): "--metadata is not valid JSON",
            ("--metadata", "[1, 2]"): "--metadata=[1, 2] is not valid",
            ("--metadata", '{"a": {"b": {"c": {"d": {"e": 1}}}}}'): "nested at most 4 levels",
            ("--metadata", orjson.dumps({"x": "y" * 3000}).decode()): "at most 2048 bytes",
            ("--external-ref", "  "): "--external-ref='  ' is not valid",
        }
        for option, message in refused.items():
            bad = run_cli(*base, *option, env=env)
            assert bad.returncode == 2, (option, bad.stderr)
            assert message in bad.stderr, (option, bad.stderr)
        listed = orjson.loads(run_cli("jobs", "list", "--json", env=env).stdout)
        assert [j["id"] for j in listed] == [answer["id"]]
        assert submissions_queued(redis_url) == [answer["id"]]

    def test_retry_takes_a_unique_prefix(self, sqlite_url: str, redis_url: str) -> None:
        """`jobs retry` takes a unique prefix of a job's id, as `jobs show` does."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        assert run_cli("db", "upgrade", env=env).returncode == 0
        job_id = failed_job(make_engine(make_settings(sqlite_url)))
        retried = run_cli("jobs", "retry", job_id[:8], "--json", env=env)
        assert retried.returncode == 0, retried.stderr
        assert orjson.loads(retried.stdout)["jobs"] == [
            {"id": job_id, "outcome": "done", "reason": None}
        ]
        assert submissions_queued(redis_url) == [job_id]
        unknown = run_cli("jobs", "retry", "zzzzzzzz", env=env)
        assert unknown.returncode == 1
        assert "no job zzzzzzzz" in unknown.stderr

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


class TestReviewCli:
    def test_needs_review_listed_adopted_and_resubmitted(
        self, sqlite_url: str, redis_url: str
    ) -> None:
        """Jobs in review say why; `adopt` settles one, `resubmit` enqueues the other."""
        env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_url}
        assert run_cli("db", "upgrade", env=env).returncode == 0
        engine = make_engine(make_settings(sqlite_url))
        upsert_customer(engine, "acme", "Acme")
        first, second = new_job(engine), new_job(engine)
        for job_id in (first, second):
            assert start_submission(engine, job_id) is not None
        settle_unknown_submissions(engine, lease_seconds=1e-6, review_after_seconds=1e-6)

        listed = run_cli("jobs", "list", "--status", "needs_review", "--json", env=env)
        rows = orjson.loads(listed.stdout)
        assert sorted(j["id"] for j in rows) == sorted([first, second])
        assert all("voicehook jobs adopt" in j["lastError"] for j in rows)
        shown = orjson.loads(run_cli("jobs", "show", first, "--json", env=env).stdout)
        assert [a["status"] for a in shown["attempts"]] == ["unknown"]

        adopted = run_cli("jobs", "adopt", first, "gen-upstream", env=env)
        assert adopted.returncode == 0, adopted.stderr
        shown = orjson.loads(run_cli("jobs", "show", first, "--json", env=env).stdout)
        assert (shown["status"], shown["lastError"]) == ("submitted", None)
        assert shown["attempts"][0]["generationId"] == "gen-upstream"
        again = run_cli("jobs", "adopt", second, "gen-upstream", env=env)
        assert again.returncode == 1
        assert "belongs to job" in again.stderr

        queued_before = len(submissions_queued(redis_url))
        resubmitted = run_cli("jobs", "resubmit", second, "--json", env=env)
        assert orjson.loads(resubmitted.stdout) == {"resubmitted": second}
        assert submissions_queued(redis_url)[queued_before:] == [second]
        assert run_cli("jobs", "resubmit", second, env=env).returncode == 1
