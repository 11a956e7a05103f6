"""`voicehook doctor` against real parts: a sandbox API, Redis, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from sqlalchemy import Engine

from bench.throwaway_s3 import ThrowawayS3
from sandbox import RunningSandbox, SandboxSettings, run_sandbox
from tests.ops.conftest import cli_env, run_cli
from tests.services import free_port
from tests.storage_fixtures import bucket_objects
from tests.voicehook.test_cli_processes import voicehook


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """The upstream API, emulated over real HTTP."""
    with run_sandbox(SandboxSettings(speech="tone")) as sb:
        yield sb


def doctor_env(
    database_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path, **extra: str
) -> dict[str, str]:
    configured = {
        "VPAI_API_KEY": sandbox.api_key,
        "VPAI_API_BASE_URL": sandbox.api_base_url,
        "AUDIO_DIR": str(tmp_path / "audio"),
    }
    return cli_env(database_url, redis_url, **(configured | extra))


def checks(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """Exit code and the checks by name, from `voicehook doctor --json` run in-process."""
    result = run_cli("doctor", "--json", env=env)
    document = orjson.loads(result.stdout)
    assert document["ok"] is (result.returncode == 0)
    return result.returncode, {check["name"]: check for check in document["checks"]}


class TestAllGreen:
    def test_everything_configured_passes(
        self,
        *,
        migrated_engine: Engine,
        database_url: str,
        redis_url: str,
        sandbox: RunningSandbox,
        tmp_path: Path,
        s3_server: ThrowawayS3,
        bucket: str,
    ) -> None:
        """Secret, key, migrated database, Redis, a key the API accepts, a writable audio
        folder and a bucket that takes a probe object: every check ok, exit 0 (as a process);
        the API call took one budget slot."""
        env = doctor_env(database_url, redis_url, sandbox, tmp_path, **s3_server.env(bucket))
        result = voicehook("doctor", "--json", env=env)
        assert result.returncode == 0, result.stdout
        document = orjson.loads(result.stdout)
        assert document["ok"] is True
        by_name = {c["name"]: c for c in document["checks"]}
        assert list(by_name) == [
            "settings", "webhook secret", "api key", "database", "schema", "broker", "api",
            "storage", "bucket", "dead letters", "stuck events", "notify endpoints",
        ]  # fmt: skip
        assert {c["status"] for c in by_name.values()} == {"ok"}
        assert by_name["broker"]["facts"]["queues"]["events"]["waiting"] == 0
        assert by_name["bucket"]["facts"] == {"store": f"s3://{bucket}/audio"}
        assert bucket_objects(s3_server, bucket) == {}  # the probe object was deleted
        assert (tmp_path / "audio").is_dir()
        client = redis.Redis.from_url(redis_url)
        [slots] = client.keys("voicehook:budget:*:slots")
        assert client.zcard(slots) == 1
        text = run_cli("doctor", env=env)  # the text form: in this process
        assert text.returncode == 0
        assert "all checks passed" in text.stdout


class TestRed:
    def test_missing_secret(
        self, sqlite_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """No VPAI_WEBHOOK_SECRETS: that check fails, naming the variable and what to set."""
        env = doctor_env(sqlite_url, redis_url, sandbox, tmp_path, VPAI_WEBHOOK_SECRETS="")
        run_cli("db", "upgrade", env=env)
        code, found = checks(env)
        assert code == 1
        secret = found["webhook secret"]
        assert secret["status"] == "fail"
        assert "VPAI_WEBHOOK_SECRETS is not set" in secret["message"]
        assert "signing secret" in secret["fix"]
        assert found["api"]["status"] == "ok"

    def test_unmigrated_database(
        self, sqlite_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """An empty database: connected, but the schema check says to run db upgrade."""
        code, found = checks(doctor_env(sqlite_url, redis_url, sandbox, tmp_path))
        assert code == 1
        assert found["database"]["status"] == "ok"
        schema = found["schema"]
        assert (schema["status"], schema["message"]) == (
            "fail",
            "the database has no voicehook tables yet",
        )
        assert "voicehook db upgrade" in schema["fix"]

    def test_unreachable_database(
        self, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """A PostgreSQL that does not answer: cannot connect (password hidden), schema skipped."""
        url = f"postgresql://app:hunter2@127.0.0.1:{free_port()}/voicehook"
        code, found = checks(doctor_env(url, redis_url, sandbox, tmp_path))
        assert code == 1
        assert found["database"]["status"] == "fail"
        assert found["database"]["message"].startswith(
            "cannot connect to postgresql+psycopg://app:***@"
        )
        assert "hunter2" not in found["database"]["message"]
        assert found["schema"]["status"] == "skip"

    def test_redis_down(
        self, migrated_engine: Engine, sqlite_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """Redis not answering: the broker check fails with a fix; the API check is skipped,
        since the shared budget lives in Redis."""
        down = f"redis://127.0.0.1:{free_port()}/0"
        env = doctor_env(sqlite_url, down, sandbox, tmp_path)
        run_cli("db", "upgrade", env=env)
        code, found = checks(env)
        assert code == 1
        broker = found["broker"]
        assert broker["status"] == "fail"
        assert "does not answer" in broker["message"]
        assert "start Redis" in broker["fix"]
        assert found["api"]["status"] == "skip"

    def test_bad_api_key(
        self, sqlite_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """A key the API refuses: the api check fails saying 401 and to check VPAI_API_KEY,
        and the text shows a fix line under it; the client's log line goes to stderr only."""
        env = doctor_env(sqlite_url, redis_url, sandbox, tmp_path, VPAI_API_KEY="vk_live_wrong")
        run_cli("db", "upgrade", env=env)
        # A process of its own: the API client logs this error, and structlog caches loggers.
        result = voicehook("doctor", "--json", env=env)
        assert result.returncode == 1
        found = {c["name"]: c for c in orjson.loads(result.stdout)["checks"]}
        assert found["api"]["status"] == "fail"
        assert "refused the API key (401 unauthorized)" in found["api"]["message"]
        assert "VPAI_API_KEY" in found["api"]["fix"]
        assert "vpai.error" in result.stderr
        assert "vk_live_wrong" not in result.stdout + result.stderr
        text = run_cli("doctor", env=env | {"COLUMNS": "200"})  # the text form: in this process
        assert "FAIL api" in text.stdout
        assert "fix: check VPAI_API_KEY" in text.stdout
        assert "1 check(s) failed" in text.stdout

    def test_missing_api_key_and_unusable_storage(
        self, sqlite_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
    ) -> None:
        """No VPAI_API_KEY fails (and skips the API call); an AUDIO_DIR that cannot be created
        fails with what to do."""
        (tmp_path / "a-file").write_text("")
        env = doctor_env(sqlite_url, redis_url, sandbox, tmp_path, VPAI_API_KEY="",
                         AUDIO_DIR=str(tmp_path / "a-file" / "audio"))  # fmt: skip
        run_cli("db", "upgrade", env=env)
        code, found = checks(env)
        assert code == 1
        assert found["api key"]["status"] == "fail"
        assert found["api"]["status"] == "skip"
        assert found["storage"]["status"] == "fail"
        assert "cannot be created" in found["storage"]["message"]

    def test_bucket_problems_in_plain_words(
        self,
        sqlite_url: str,
        redis_url: str,
        sandbox: RunningSandbox,
        tmp_path: Path,
        s3_server: ThrowawayS3,
    ) -> None:
        """No such bucket, or an endpoint that does not answer: `bucket` fails saying which;
        without STORAGE_URL it is skipped with the advice for a PaaS."""
        missing = doctor_env(sqlite_url, redis_url, sandbox, tmp_path,
                             **s3_server.env("no-such-bucket"))  # fmt: skip
        _, found = checks(missing)
        assert found["bucket"]["status"] == "fail"
        assert "no-such-bucket does not exist" in found["bucket"]["message"]
        dead = {**s3_server.env("some-bucket"), "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                "STORAGE_TIMEOUT_SECONDS": "2"}  # fmt: skip
        _, found = checks(doctor_env(sqlite_url, redis_url, sandbox, tmp_path, **dead))
        assert found["bucket"]["status"] == "fail"
        assert "did not answer" in found["bucket"]["message"]
        assert "S3_ENDPOINT_URL" in found["bucket"]["fix"]
        _, found = checks(doctor_env(sqlite_url, redis_url, sandbox, tmp_path))
        assert found["bucket"]["status"] == "skip"
        assert "STORAGE_URL" in found["bucket"]["fix"]

    def test_invalid_settings(self, sqlite_url: str, tmp_path: Path) -> None:
        """A variable that does not parse: the settings check names it, exit 2 as every command;
        the checks that do not read it still run, those that do are skipped."""
        code, found = checks(cli_env(sqlite_url, PORT="eighty", DATABASE_URL="sqlite:/x.db"))
        assert code == 2
        assert found["settings"]["status"] == "fail"
        assert "PORT='eighty' is not valid: expected a whole number" in found["settings"]["message"]
        assert "DATABASE_URL" in found["settings"]["message"]
        assert found["database"]["status"] == found["schema"]["status"] == "skip"
        assert "DATABASE_URL is invalid" in found["database"]["message"]
        assert found["webhook secret"]["status"] == "ok"
