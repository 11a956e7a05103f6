"""`voicehook dead-letters list|requeue|purge` on SQLite and PostgreSQL, against real Redis
holding messages Dramatiq itself dead-lettered (a real actor failing past its retries, or
the RedisBroker's own nack)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import dramatiq
import orjson
import redis
from sqlalchemy import Engine, insert, update

from config.broker import BatchingRedisBroker, build_broker, enqueue_events
from config.dead_letters import DeadLetters, dead_letter_key
from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    EVENTS_QUEUE,
    JOBS_QUEUE,
    NOTIFICATIONS_QUEUE,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from config.redis_connection import redis_client
from records.events import EVENTS
from records.jobs import VOICES
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed
from records.types import utcnow
from tests.conftest import make_settings
from tests.monitoring.rows import add_job
from tests.notify.conftest import make_ready_job
from tests.ops.conftest import cli_env, run_cli, store
from tests.receiver.conftest import as_text, enqueued_event_ids, envelope, events
from tests.waiting import wait_until
from voicehook.ops.reprocess import HELD
from voicehook.redis_server import RedisServer


def broker_on(redis_url: str) -> BatchingRedisBroker:
    return build_broker(make_settings("sqlite://", redis_url))


def dead_letter(redis_url: str, queue: str, actor: str, ids: Sequence[str]) -> None:
    """Enqueue `actor(id)` messages as our producers do, then take each and dead-letter it
    by the RedisBroker's own nack (what Dramatiq does when retries run out)."""
    broker = broker_on(redis_url)
    broker.enqueue_ids(queue, actor, ids)
    consumer = broker.consume(queue, prefetch=len(ids), timeout=200)
    taken = 0
    for _ in range(200):
        message = next(consumer)
        if message is not None:
            consumer.nack(message)
            taken += 1
        if taken == len(ids):
            break
    consumer.close()
    assert taken == len(ids)


def failing_event(engine: Engine, redis_url: str, resource: str, error: str) -> str:
    """A stored event whose `process_event` a real worker ran and which failed past its
    retries (max_retries 0 on the message: the first failure dead-letters it)."""
    event_id = store(engine, envelope("generation.ready", resource))
    with engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(last_error=error))
    broker = broker_on(redis_url)

    @dramatiq.actor(broker=broker, actor_name=PROCESS_EVENT_ACTOR, queue_name=EVENTS_QUEUE)
    def process_event(event_id: str) -> None:
        raise RuntimeError(f"cannot process {event_id}")

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        process_event.send_with_options(args=(event_id,), max_retries=0)
        client = redis_client(redis_url)
        wait_until(lambda: client.zcard(dead_letter_key(EVENTS_QUEUE)) >= 1)
    finally:
        worker.stop()
    return event_id


def listed(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = run_cli("dead-letters", "list", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = orjson.loads(result.stdout)
    return rows


def queued_job_ids(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    ids = [as_text(raw) for raw in client.lrange(f"dramatiq:{JOBS_QUEUE}", 0, -1)]
    bodies = client.hmget("dramatiq:jobs.msgs", ids) if ids else []
    return [str(orjson.loads(raw or b"{}")["args"][0]) for raw in bodies]


class TestList:
    def test_each_letter_with_its_id_age_and_recorded_error(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """Per queue: actor, the id carried, age, and the error the database recorded."""
        event_id = failing_event(migrated_engine, redis_url, "g1", "download refused: 403")
        job_id = add_job(migrated_engine, "submitting")
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, [job_id])
        rows = listed(cli_env(database_url, redis_url))
        by_actor = {row["actor"]: row for row in rows}
        event_row = by_actor[PROCESS_EVENT_ACTOR]
        assert event_row["queue"] == EVENTS_QUEUE
        assert event_row["entityId"] == event_id
        assert event_row["error"] == "download refused: 403"
        assert event_row["ageSeconds"] >= 0
        job_row = by_actor[SUBMIT_JOB_ACTOR]
        assert (job_row["queue"], job_row["entityId"], job_row["status"]) == (
            JOBS_QUEUE,
            job_id,
            "submitting",
        )
        only_jobs = listed(cli_env(database_url, redis_url), "--queue", JOBS_QUEUE)
        assert [row["entityId"] for row in only_jobs] == [job_id]

    def test_screen_and_unknown_queue(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """The table names the actor; a queue that does not exist is a clear error."""
        failing_event(migrated_engine, redis_url, "g1", "boom")
        env = cli_env(database_url, redis_url)
        result = run_cli("dead-letters", "list", env=env)
        assert result.returncode == 0, result.stderr
        assert PROCESS_EVENT_ACTOR in result.stdout
        assert "boom" in result.stdout
        bad = run_cli("dead-letters", "list", "--queue", "nope", env=env)
        assert bad.returncode == 2
        assert "no queue 'nope'" in bad.stderr


class TestRequeue:
    def test_event_goes_back_through_reprocess(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """The event row is `queued`, its message is on the queue, the dead letter gone."""
        event_id = failing_event(migrated_engine, redis_url, "g1", "boom")
        with migrated_engine.begin() as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status="failed"))
        [row] = listed(cli_env(database_url, redis_url))
        result = run_cli(
            "dead-letters", "requeue", row["id"][:8], "--json", env=cli_env(database_url, redis_url)
        )
        assert result.returncode == 0, result.stderr
        assert orjson.loads(result.stdout) == {"requeued": [row["id"]], "skipped": {}}
        assert enqueued_event_ids(redis_url) == [event_id]
        [stored] = [e for e in events(migrated_engine) if e["id"] == event_id]
        assert stored["status"] == "queued"
        assert listed(cli_env(database_url, redis_url)) == []

    def test_all_jobs_and_a_missing_row_stays(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """`--all --queue jobs`: each job is enqueued again; one whose row is gone stays."""
        jobs = [add_job(migrated_engine, "submitting") for _ in range(3)]
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, [*jobs, "no-such-job"])
        env = cli_env(database_url, redis_url)
        result = run_cli("dead-letters", "requeue", "--all", "--queue", "jobs", "--json", env=env)
        assert result.returncode == 0, result.stderr
        outcome = orjson.loads(result.stdout)
        assert len(outcome["requeued"]) == 3
        assert list(outcome["skipped"].values()) == ["its row is gone from the database: purge it"]
        assert sorted(queued_job_ids(redis_url)) == sorted(jobs)
        assert [row["entityId"] for row in listed(env)] == ["no-such-job"]

    def test_needs_a_selection(self, database_url: str, redis_url: str) -> None:
        """Neither --all nor ids: refused, nothing touched."""
        result = run_cli("dead-letters", "requeue", env=cli_env(database_url, redis_url))
        assert result.returncode == 2
        assert "--all, or dead-letter ids" in result.stderr

    def test_a_removal_refused_keeps_the_dead_letter(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisServer
    ) -> None:
        """Redis refuses the removal after the replacement was enqueued: both exist (a
        duplicate the idempotent worker absorbs), nothing is lost."""
        url = private_redis.url
        event_id = failing_event(migrated_engine, url, "g1", "boom")
        admin = redis.Redis.from_url(url)
        # The default user may no longer delete from sets or hashes: the removal fails.
        admin.acl_setuser("default", enabled=True, nopass=True, commands=["-zrem", "-hdel"])
        result = run_cli("dead-letters", "requeue", "--all", env=cli_env(database_url, url))
        admin.acl_setuser("default", enabled=True, nopass=True, commands=["+@all"])
        assert result.returncode == 1
        assert "stays dead-lettered" in result.stderr
        assert enqueued_event_ids(url) == [event_id]
        assert admin.zcard(dead_letter_key(EVENTS_QUEUE)) == 1

    def test_broker_down_changes_nothing(
        self, migrated_engine: Engine, database_url: str, private_redis: RedisServer
    ) -> None:
        """Redis gone before the enqueue: the event row stays as it was, exit 1."""
        url = private_redis.url
        event_id = failing_event(migrated_engine, url, "g1", "boom")
        with migrated_engine.begin() as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status="failed"))
        [row] = listed(cli_env(database_url, url))
        private_redis.stop()
        result = run_cli("dead-letters", "requeue", row["id"], env=cli_env(database_url, url))
        assert result.returncode == 1
        assert "stays dead-lettered" in result.stderr
        [stored] = [e for e in events(migrated_engine) if e["id"] == event_id]
        assert stored["status"] == "failed"


class TestPurge:
    def test_all_needs_yes(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """`--all` without `--yes` is refused and removes nothing."""
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, ["j1", "j2"])
        env = cli_env(database_url, redis_url)
        refused = run_cli("dead-letters", "purge", "--all", env=env)
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        assert len(listed(env)) == 2
        done = run_cli("dead-letters", "purge", "--all", "--yes", "--json", env=env)
        assert done.returncode == 0, done.stderr
        assert orjson.loads(done.stdout) == {"dryRun": False, "removed": {"jobs": 2}}
        assert listed(env) == []
        assert redis_client(redis_url).exists(f"{dead_letter_key(JOBS_QUEUE)}.msgs") == 0

    def test_older_than_keeps_the_young(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """`--older-than 1h` keeps what died just now; a cutoff in the future takes them."""
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, ["j1"])
        env = cli_env(database_url, redis_url)
        kept = run_cli("dead-letters", "purge", "--older-than", "1h", "--json", env=env)
        assert orjson.loads(kept.stdout)["removed"] == {}
        gone = run_cli("dead-letters", "purge", "--older-than", "2999-01-01", env=env)
        assert "removed 1 dead letter(s) (1 from jobs)" in gone.stdout
        assert listed(env) == []
        bad = run_cli("dead-letters", "purge", "--older-than", "soon", env=env)
        assert bad.returncode == 2


class TestPaging:
    def test_pages_with_tied_scores_yield_each_once_while_removed(self, redis_url: str) -> None:
        """Pages of 2 over 5 letters dead in the same millisecond: each comes once, also
        when the caller removes what it was given."""
        broker = broker_on(redis_url)
        enqueue_events(broker, ["e1", "e2", "e3", "e4", "e5"])
        client = redis_client(redis_url)
        ids = [as_text(m) for m in client.lrange("dramatiq:events", 0, -1)]
        bodies = client.hmget("dramatiq:events.msgs", ids)
        key = dead_letter_key(EVENTS_QUEUE)
        client.zadd(key, dict.fromkeys(ids, 1_700_000_000_000))
        client.hset(f"{key}.msgs", mapping=dict(zip(ids, bodies, strict=True)))  # type: ignore[arg-type]
        letters = DeadLetters(client, page=2)
        assert sorted(x.entity_id or "" for x in letters.oldest_first(EVENTS_QUEUE)) == [
            "e1", "e2", "e3", "e4", "e5",
        ]  # fmt: skip
        seen = []
        for letter in letters.oldest_first(EVENTS_QUEUE):
            seen.append(letter.entity_id)
            letters.remove(EVENTS_QUEUE, [letter.message_id])
        assert sorted(x or "" for x in seen) == ["e1", "e2", "e3", "e4", "e5"]
        assert letters.count(EVENTS_QUEUE) == 0


def add_voice(engine: Engine) -> str:
    voice_id = str(uuid4())
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(VOICES).values(
                id=voice_id, status="uploading", sample_paths=[], created_at=now, updated_at=now
            )
        )
    return voice_id


class TestRequeueEveryKind:
    def test_all_queues_at_once(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """`--all`: an event, a job and a clone each go back to their own queue."""
        event_id = failing_event(migrated_engine, redis_url, "g1", "boom")
        job_id = add_job(migrated_engine, "submitting")
        voice_id = add_voice(migrated_engine)
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, [job_id])
        dead_letter(redis_url, JOBS_QUEUE, CLONE_VOICE_ACTOR, [voice_id])
        env = cli_env(database_url, redis_url)
        result = run_cli("dead-letters", "requeue", "--all", "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert len(orjson.loads(result.stdout)["requeued"]) == 3
        assert enqueued_event_ids(redis_url) == [event_id]
        assert sorted(queued_job_ids(redis_url)) == sorted([job_id, voice_id])
        assert listed(env) == []

    def test_an_event_a_worker_holds_stays(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """An event `processing` now is skipped with the reason; its dead letter stays."""
        event_id = failing_event(migrated_engine, redis_url, "g1", "boom")
        with migrated_engine.begin() as conn:
            conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status="processing"))
        env = cli_env(database_url, redis_url)
        result = run_cli("dead-letters", "requeue", "--all", "--json", env=env)
        assert result.returncode == 0, result.stderr
        outcome = orjson.loads(result.stdout)
        assert outcome["requeued"] == []
        assert list(outcome["skipped"].values()) == [HELD]
        assert enqueued_event_ids(redis_url) == []
        assert [row["entityId"] for row in listed(env)] == [event_id]

    def test_an_ambiguous_or_unknown_id_is_refused(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """An id that names no dead letter, or an empty one: exit 2, nothing requeued."""
        dead_letter(redis_url, JOBS_QUEUE, SUBMIT_JOB_ACTOR, ["j1"])
        env = cli_env(database_url, redis_url)
        unknown = run_cli("dead-letters", "requeue", "zzzz", env=env)
        assert unknown.returncode == 2
        assert "no dead letter zzzz" in unknown.stderr
        empty = run_cli("dead-letters", "purge", " ", env=env)
        assert empty.returncode == 2
        assert len(listed(env)) == 1


def queued_delivery_ids(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    ids = [as_text(raw) for raw in client.lrange(f"dramatiq:{NOTIFICATIONS_QUEUE}", 0, -1)]
    bodies = client.hmget(f"dramatiq:{NOTIFICATIONS_QUEUE}.msgs", ids) if ids else []
    return [str(orjson.loads(raw or b"{}")["args"][0]) for raw in bodies]


class TestRequeueNotifications:
    def test_a_delivery_is_enqueued_again(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """A dead `deliver_notification` goes back on the notifications queue, listed first
        with its delivery's status."""
        handed_over: list[str] = []
        publish_committed(migrated_engine, handed_over.extend)
        try:
            sync_env_endpoints(migrated_engine, ["http://app.example/hooks"])
            make_ready_job(migrated_engine)
        finally:
            publish_committed(migrated_engine, None)
        assert handed_over
        dead_letter(redis_url, NOTIFICATIONS_QUEUE, DELIVER_NOTIFICATION_ACTOR, handed_over)
        env = cli_env(database_url, redis_url)
        rows = listed(env, "--queue", NOTIFICATIONS_QUEUE)
        assert sorted(row["entityId"] for row in rows) == sorted(handed_over)
        assert {row["status"] for row in rows} == {"pending"}
        result = run_cli("dead-letters", "requeue", "--all", "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert len(orjson.loads(result.stdout)["requeued"]) == len(handed_over)
        assert sorted(queued_delivery_ids(redis_url)) == sorted(handed_over)
        assert listed(env) == []
