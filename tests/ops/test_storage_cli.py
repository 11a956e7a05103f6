"""`voicehook storage migrate` and `voicehook jobs prune` against a real S3 server."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, update

from bench.throwaway_s3 import ThrowawayS3
from records.jobs import JOBS
from records.types import utcnow
from storage.build import open_store
from storage.local import LocalStore
from storage.protocol import ObjectStore
from tests.ops.conftest import cli_env, run_cli
from tests.processors.flow import job, new_job
from tests.storage_fixtures import s3_settings


def ready_local_job(
    engine: Engine, audio_dir: Path, content: bytes, *, age: timedelta = timedelta(0)
) -> str:
    """A ready job whose audio is a file under AUDIO_DIR, as before this store existed."""
    job_id = new_job(engine)
    key = f"c/{job_id}.wav"
    (audio_dir / "c").mkdir(parents=True, exist_ok=True)
    (audio_dir / key).write_bytes(content)
    with engine.begin() as conn:
        conn.execute(
            update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(
                status="ready",
                audio_path=key,
                audio_store="local",
                audio_bytes=len(content),
                audio_sha256=hashlib.sha256(content).hexdigest(),
                audio_duration_sec=1.25,
                ready_at=utcnow() - age,
            )
        )
    return job_id


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    return tmp_path / "audio"


@pytest.fixture
def bucket_env(
    database_url: str, audio_dir: Path, s3_server: ThrowawayS3, bucket: str
) -> dict[str, str]:
    """The CLI's environment: the database, AUDIO_DIR, and the bucket as STORAGE_URL."""
    return cli_env(database_url, AUDIO_DIR=str(audio_dir), **s3_server.env(bucket))


def run_json(*args: str, env: dict[str, str], code: int = 0) -> Any:
    ran = run_cli(*args, "--json", env=env)
    assert ran.returncode == code, ran.stderr + ran.stdout
    return orjson.loads(ran.stdout)


def bucket_store(server: ThrowawayS3, bucket: str) -> ObjectStore:
    return open_store(s3_settings(server, bucket))


class TestMigrate:
    def test_copies_repoints_and_resumes(
        self,
        *,
        migrated_engine: Engine,
        audio_dir: Path,
        bucket_env: dict[str, str],
        s3_server: ThrowawayS3,
        bucket: str,
        tmp_path: Path,
    ) -> None:
        """Audio and samples copied with their sha256, jobs repointed; a run interrupted after
        an upload carries on without copying it again; a second run copies nothing."""
        first = ready_local_job(migrated_engine, audio_dir, b"RIFF-first")
        second = ready_local_job(migrated_engine, audio_dir, b"RIFF-second")
        sample = audio_dir / "_samples" / "v1" / "01-take.wav"
        sample.parent.mkdir(parents=True)
        sample.write_bytes(b"RIFF-sample")
        target = bucket_store(s3_server, bucket)
        # An earlier run uploaded the first job's audio, then stopped before repointing it.
        copy = tmp_path / "copy"
        copy.write_bytes(b"RIFF-first")
        target.put(f"c/{first}.wav", copy, sha256=hashlib.sha256(b"RIFF-first").hexdigest())
        env = bucket_env

        done = run_json("storage", "migrate", "--to", f"s3://{bucket}/audio", env=env)
        assert (done["copied"], done["alreadyThere"], done["repointed"]) == (2, 1, 2)
        assert done["problems"] == {}
        for job_id, content in ((first, b"RIFF-first"), (second, b"RIFF-second")):
            moved = job(migrated_engine, job_id)
            assert moved.audio_store == f"s3://{bucket}/audio"
            found = target.stat(f"c/{job_id}.wav")
            assert found is not None
            assert found.sha256 == hashlib.sha256(content).hexdigest()
        assert target.keys("_samples/v1/") == ["_samples/v1/01-take.wav"]
        assert sample.exists()  # the source stays until the operator removes it

        again = run_json("storage", "migrate", "--to", f"s3://{bucket}/audio", env=env)
        assert (again["copied"], again["alreadyThere"], again["repointed"]) == (0, 1, 0)

    def test_a_missing_local_file_is_reported_and_not_repointed(
        self, migrated_engine: Engine, audio_dir: Path, bucket_env: dict[str, str], bucket: str
    ) -> None:
        """A record whose file is gone stays where it was, named in the problems; exit 1."""
        lost = ready_local_job(migrated_engine, audio_dir, b"RIFF-lost")
        (audio_dir / "c" / f"{lost}.wav").unlink()
        env = bucket_env
        done = run_json("storage", "migrate", "--to", f"s3://{bucket}/audio", env=env, code=1)
        assert done["problems"] == {f"c/{lost}.wav": "not in local"}
        assert job(migrated_engine, lost).audio_store == "local"


class TestPrune:
    def test_old_audio_is_deleted_and_recorded(
        self, migrated_engine: Engine, audio_dir: Path, database_url: str
    ) -> None:
        """Only audio ready before the cutoff goes; dry-run counts; the job says when."""
        old = ready_local_job(migrated_engine, audio_dir, b"RIFF-old", age=timedelta(days=100))
        new = ready_local_job(migrated_engine, audio_dir, b"RIFF-new")
        env = cli_env(database_url, AUDIO_DIR=str(audio_dir))
        dry = run_json("jobs", "prune", "--older-than", "30d", "--dry-run", env=env)
        assert (dry["jobs"], dry["bytes"]) == (1, len(b"RIFF-old"))
        assert (audio_dir / "c" / f"{old}.wav").exists()

        done = run_json("jobs", "prune", "--older-than", "30d", env=env)
        assert (done["jobs"], done["store"]) == (1, "local")
        assert LocalStore(audio_dir).stat(f"c/{old}.wav") is None
        assert job(migrated_engine, old).audio_pruned_at is not None
        assert (audio_dir / "c" / f"{new}.wav").exists()
        assert job(migrated_engine, new).audio_pruned_at is None
        assert run_json("jobs", "prune", "--older-than", "30d", env=env)["jobs"] == 0

    def test_audio_in_another_store_is_left_alone(
        self, migrated_engine: Engine, audio_dir: Path, bucket_env: dict[str, str]
    ) -> None:
        """Configured for a bucket, local audio is not this run's to delete."""
        old = ready_local_job(migrated_engine, audio_dir, b"RIFF-old", age=timedelta(days=100))
        env = bucket_env
        done = run_json("jobs", "prune", "--older-than", "30d", env=env)
        assert (done["jobs"], done["elsewhere"]) == (0, 1)
        assert (audio_dir / "c" / f"{old}.wav").exists()
