"""voice.cloned, reconciliation by polling, and recovery of forgotten jobs."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

import orjson
import redis
from sqlalchemy import update
from sqlmodel import Session, select

from config.broker import build_broker, enqueue_events, enqueue_submissions
from processors.budget import Priority
from processors.handlers.submit import submit_job
from processors.maintenance import recover_jobs, remove_stale_downloads
from processors.reconcile import reconcile_once
from processors.worker import ProcessorContext
from records.event_store import EventStore
from records.events import Event
from records.jobs import Attempt, Job, Voice
from records.types import utcnow
from tests.conftest import make_settings
from tests.processors.flow import Sandbox, attempts, job, new_job, process, store_event
from tests.receiver.conftest import enqueued_event_ids


class TestVoiceCloned:
    def test_clone_completion_marks_the_voice_ready(
        self, ctx: ProcessorContext, vpai: Sandbox
    ) -> None:
        """Upload, clone, and the voice.cloned event records the upstream voice id once."""
        path = ctx.api.upload("sample.wav", b"RIFF" + b"\0" * 2000)
        clone_job_id = ctx.api.clone_voice([path])
        with Session(ctx.engine) as session:
            now = utcnow()
            session.add(
                Voice(
                    id="v-local",
                    clone_job_id=clone_job_id,
                    status="cloning",
                    sample_paths=[path],
                    created_at=now,
                    updated_at=now,
                )
            )
            session.commit()
        deadline = time.monotonic() + 10
        cloned = None
        while cloned is None and time.monotonic() < deadline:
            cloned = next(
                (v for v in ctx.api.list_voices() if v.get("cloneJobId") == clone_job_id), None
            )
            time.sleep(0.1)
        assert cloned is not None
        event_id = store_event(ctx.engine, "voice.cloned", cloned)
        process(ctx, event_id)
        process(ctx, event_id)
        with Session(ctx.engine) as session:
            voices = list(session.exec(select(Voice)))
        assert len(voices) == 1
        assert voices[0].status == "ready"
        assert voices[0].voice_id == cloned["id"]


class TestReconcile:
    def test_overdue_attempt_is_polled_and_becomes_the_event(
        self, ctx: ProcessorContext, vpai: Sandbox, database_url: str, redis_url: str
    ) -> None:
        """No webhook came: a poll finds the generation ready, stores it under the same key,
        and the webhook arriving later is a duplicate."""
        job_id = new_job(ctx.engine)
        submit_job(ctx, job_id)
        [attempt] = attempts(ctx.engine, job_id)
        assert attempt.generation_id is not None
        generation = vpai.wait_until_settled(attempt.generation_id)
        with ctx.engine.begin() as conn:
            conn.execute(
                update(Attempt)
                .where(Attempt.id == attempt.id)  # type: ignore[arg-type]
                .values(submitted_at=utcnow() - timedelta(hours=1))
            )
        broker = build_broker(make_settings(database_url, redis_url))
        store = EventStore(ctx.engine)
        assert reconcile_once(ctx, store, partial(enqueue_events, broker)) == 1
        with Session(ctx.engine) as session:
            [found] = list(session.exec(select(Event)))
        assert found.dedup_key == f"generation.ready:{attempt.generation_id}"
        assert enqueued_event_ids(redis_url) == [found.id]
        process(ctx, found.id)
        assert job(ctx.engine, job_id).status == "ready"
        late_webhook = store_event(ctx.engine, "generation.ready", generation)
        assert late_webhook == found.id  # the dedup key made it a duplicate
        assert reconcile_once(ctx, store, partial(enqueue_events, broker)) == 0

    def test_polls_stop_when_only_the_reserve_is_left(
        self, ctx: ProcessorContext, vpai: Sandbox, database_url: str, redis_url: str
    ) -> None:
        """Reconciliation is low priority: with the budget nearly spent it polls nothing."""
        job_id = new_job(ctx.engine)
        submit_job(ctx, job_id)
        with ctx.engine.begin() as conn:
            conn.execute(update(Attempt).values(submitted_at=utcnow() - timedelta(hours=1)))
        while ctx.api.budget.try_acquire(Priority.LOW) == 0.0:  # down to the reserve
            pass
        served = vpai.workspace()["requests"]["served"]
        broker = build_broker(make_settings(database_url, redis_url))
        assert reconcile_once(ctx, EventStore(ctx.engine), partial(enqueue_events, broker)) == 0
        assert vpai.workspace()["requests"]["served"] == served


class TestRecoverJobs:
    def test_forgotten_and_abandoned_jobs_are_enqueued_again(
        self, ctx: ProcessorContext, database_url: str, redis_url: str
    ) -> None:
        """A pending job nobody enqueued, and one a dead worker held, get submit messages."""
        forgotten = new_job(ctx.engine)
        abandoned = new_job(ctx.engine)
        fresh = new_job(ctx.engine)
        old = utcnow() - timedelta(hours=1)
        with ctx.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == forgotten).values(updated_at=old))  # type: ignore[arg-type]
            conn.execute(
                update(Job).where(Job.id == abandoned).values(status="submitting", updated_at=old)  # type: ignore[arg-type]
            )
        broker = build_broker(make_settings(database_url, redis_url))
        found = recover_jobs(
            ctx.engine,
            partial(enqueue_submissions, broker),
            forgotten_after_seconds=60,
            submitting_lease_seconds=600,
        )
        assert found == 2
        queued = redis_ids(redis_url)
        assert sorted(queued) == sorted([forgotten, abandoned])
        assert fresh not in queued
        assert job(ctx.engine, abandoned).status == "retry_wait"


def redis_ids(redis_url: str) -> list[str]:
    client = redis.Redis.from_url(redis_url)
    return [str(orjson.loads(raw)["args"][0]) for raw in client.hvals("dramatiq:jobs.msgs")]


class TestRemoveStaleDownloads:
    def test_only_old_partial_files_in_customer_folders_go(self, tmp_path: Path) -> None:
        """A killed download's old partial file is removed; live ones and audio stay."""
        folder = tmp_path / "audio" / "customer-1"
        folder.mkdir(parents=True)
        old = folder / ".job.wav.0123456789abcdef.part"
        live = folder / ".job2.wav.fedcba9876543210.part"
        audio = folder / "job3.wav"
        for path in (old, live, audio):
            path.write_bytes(b"x")
        hour_ago = time.time() - 3600
        os.utime(old, (hour_ago, hour_ago))
        os.utime(audio, (hour_ago, hour_ago))
        assert remove_stale_downloads(tmp_path / "audio", older_than_seconds=600) == 1
        assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, audio.name])
        assert remove_stale_downloads(tmp_path / "missing", older_than_seconds=600) == 0
