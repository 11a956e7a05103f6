"""The checks of what the service keeps things in: database, schema, Redis, audio folder and
bucket."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import redis
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config.database import make_engine, ping
from config.dead_letters import dead_letter_key
from config.queues import EVENTS_QUEUE, JOBS_QUEUE
from config.redis_connection import redis_client
from config.settings import Settings
from records.migrate import current_revision, head_revision
from storage.build import open_store
from storage.errors import ObjectStoreError, StoreUnreachable
from storage.probe import probe_store
from voicehook.ops.doctor.model import Check, Status, redact_url, size_text

MIN_FREE_BYTES = 100 * 1024 * 1024  # below this, downloads will soon fail
LOW_FREE_BYTES = 1024 * 1024 * 1024  # below this, a warning
UPGRADE = "run `voicehook db upgrade` (the Procfile's release step does it on deploy)"


def check_database(settings: Settings) -> list[Check]:
    """The database answers, and its schema is at the newest migration."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings, pool_size=1)
    try:
        try:
            ping(engine)
            current = current_revision(engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            return [
                Check(
                    "database",
                    Status.FAIL,
                    f"cannot connect to {shown}: {reason[0] if reason else type(exc).__name__}",
                    "check DATABASE_URL, and that the database server is running and reachable",
                ),
                Check("schema", Status.SKIP, "not checked: the database is unreachable"),
            ]
    finally:
        engine.dispose()
    connected = Check("database", Status.OK, f"connected to {shown}", facts={"url": shown})
    return [connected, schema_check(current, head_revision())]


def schema_check(current: str | None, head: str | None) -> Check:
    """The schema at head; otherwise, which way it is off and what to run."""
    facts = {"current": current, "head": head}
    if current == head:
        return Check("schema", Status.OK, f"schema at the newest revision ({head})", facts=facts)
    if current is None:
        return Check(
            "schema", Status.FAIL, "the database has no voicehook tables yet", UPGRADE, facts
        )
    return Check(
        "schema",
        Status.FAIL,
        f"the schema is at revision {current}, but this version of voicehook needs {head}",
        f"{UPGRADE}; if the database is ahead, deploy the voicehook version that migrated it",
        facts,
    )


def check_broker(redis_url: str | None, *, embedded: bool = False) -> Check:
    """Redis answers a ping; the depths of the event and job queues."""
    if not redis_url:
        return Check(
            "broker",
            Status.FAIL,
            "REDIS_URL is not set, so nothing can be enqueued for the workers",
            "set REDIS_URL to your Redis (or run `voicehook dev`, which starts an embedded one)",
        )
    shown = redact_url(redis_url) + (" (the embedded Redis of `voicehook dev`)" if embedded else "")
    client = redis_client(redis_url)
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.ping()
            for queue in (EVENTS_QUEUE, JOBS_QUEUE):
                pipe.llen(f"dramatiq:{queue}")
                pipe.llen(f"dramatiq:{queue}.DQ")
                pipe.zcard(dead_letter_key(queue))
            _, *depths = pipe.execute()
    except redis.RedisError as exc:
        return Check(
            "broker",
            Status.FAIL,
            f"Redis at {shown} does not answer: {exc}",
            "start Redis, or point REDIS_URL at one that runs",
        )
    finally:
        client.close()
    queues = {
        queue: {"waiting": depths[i * 3], "delayed": depths[i * 3 + 1], "dead": depths[i * 3 + 2]}
        for i, queue in enumerate((EVENTS_QUEUE, JOBS_QUEUE))
    }
    words = ", ".join(
        f"dramatiq:{q} {d['waiting']} waiting, {d['delayed']} delayed, {d['dead']} dead"
        for q, d in queues.items()
    )
    return Check(
        "broker", Status.OK, f"Redis at {shown} answers; {words}", facts={"queues": queues}
    )


def check_storage(audio_dir: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    """AUDIO_DIR exists (or is created), takes a file, and has room."""
    where = str(audio_dir.resolve())
    try:
        audio_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} does not exist and cannot be created: {exc.strerror or exc}",
            "create it, or set AUDIO_DIR to a folder the service may write to",
        )
    try:
        with tempfile.NamedTemporaryFile(dir=audio_dir, prefix=".doctor-") as probe:
            probe.write(b"voicehook")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} is not writable: {exc.strerror or exc}",
            "give the service's user write access to it, or set AUDIO_DIR elsewhere",
        )
    free = shutil.disk_usage(audio_dir).free
    facts = {"path": where, "freeBytes": free}
    if free < min_free:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} has only {size_text(free)} free",
            "free some space, or move AUDIO_DIR to a larger volume",
            facts,
        )
    if free < max(LOW_FREE_BYTES, min_free):
        return Check(
            "storage",
            Status.WARN,
            f"AUDIO_DIR {where} has {size_text(free)} free (low)",
            None,
            facts,
        )
    return Check(
        "storage", Status.OK, f"AUDIO_DIR {where} is writable, {size_text(free)} free", None, facts
    )


def check_bucket(settings: Settings) -> Check:
    """With STORAGE_URL set: a probe object written, read back and deleted, in plain words."""
    if not settings.storage_url:
        return Check(
            "bucket",
            Status.SKIP,
            "STORAGE_URL is unset: audio and voice samples are kept under AUDIO_DIR",
            "on a PaaS, where web and worker have separate disks, set STORAGE_URL=s3://bucket",
        )
    try:
        store = open_store(settings)
        probe_store(store, settings.audio_dir)
    except StoreUnreachable as exc:
        return Check("bucket", Status.FAIL, str(exc), "check S3_ENDPOINT_URL and the network to it")
    except ObjectStoreError as exc:
        return Check("bucket", Status.FAIL, str(exc), "fix the bucket settings named above")
    endpoint = redact_url(settings.s3_endpoint_url) if settings.s3_endpoint_url else "AWS"
    return Check(
        "bucket",
        Status.OK,
        f"{store.name} at {endpoint}: a probe object was written, read back and deleted",
        None,
        {"store": store.name},
    )
