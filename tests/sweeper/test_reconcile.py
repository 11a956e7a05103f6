"""Reconciliation: an attempt whose webhook never came is polled, at the lowest priority."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, select, update

from config.broker import build_broker, enqueue_events
from processors.budget import Priority
from processors.handlers.submit import submit_job
from processors.worker import ProcessorContext, build_context
from records.event_store import EventStore
from records.events import EVENTS
from records.jobs import ATTEMPTS
from records.types import utcnow
from sandbox.server import run_sandbox
from sandbox.settings import SandboxSettings
from sweeper.reconcile import reconcile_once
from tests.conftest import make_settings
from tests.processors.flow import Sandbox, attempts, job, new_job, process, store_event
from tests.receiver.conftest import enqueued_event_ids
from tests.services import wait_for


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
                update(ATTEMPTS)
                .where(ATTEMPTS.c.id == attempt.id)
                .values(submitted_at=utcnow() - timedelta(hours=1))
            )
        broker = build_broker(make_settings(database_url, redis_url))
        store = EventStore(ctx.engine)
        assert reconcile_once(ctx, store, partial(enqueue_events, broker)) == 1
        with ctx.engine.connect() as conn:
            [found] = conn.execute(select(EVENTS)).all()
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
            conn.execute(update(ATTEMPTS).values(submitted_at=utcnow() - timedelta(hours=1)))
        while ctx.api.budget.try_acquire(Priority.LOW) == 0.0:  # down to the reserve
            pass
        served = vpai.workspace()["requests"]["served"]
        broker = build_broker(make_settings(database_url, redis_url))
        assert reconcile_once(ctx, EventStore(ctx.engine), partial(enqueue_events, broker)) == 0
        assert vpai.workspace()["requests"]["served"] == served


class TestConvergence:
    def test_a_failed_event_is_run_again_not_swallowed(
        self, ctx: ProcessorContext, vpai: Sandbox, database_url: str, redis_url: str
    ) -> None:
        """A terminal status found by polling re-runs the failed event of the same key."""
        job_id = new_job(ctx.engine)
        submit_job(ctx, job_id)
        [attempt] = attempts(ctx.engine, job_id)
        assert attempt.generation_id is not None
        generation = vpai.wait_until_settled(attempt.generation_id)
        event_id = store_event(ctx.engine, "generation.ready", generation)
        with ctx.engine.begin() as conn:  # its processing failed (say, downloads did) earlier
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.id == event_id)
                .values(status="failed", last_error="download kept failing")
            )
            conn.execute(
                update(ATTEMPTS)
                .where(ATTEMPTS.c.id == attempt.id)
                .values(submitted_at=utcnow() - timedelta(hours=1))
            )
        broker = build_broker(make_settings(database_url, redis_url))
        assert reconcile_once(ctx, EventStore(ctx.engine), partial(enqueue_events, broker)) == 1
        assert enqueued_event_ids(redis_url) == [event_id]
        process(ctx, event_id)
        assert job(ctx.engine, job_id).status == "ready"

    def test_a_generation_stuck_running_is_polled_less_often_then_surfaced(
        self, migrated_engine: Engine, database_url: str, redis_url: str, tmp_path: Path
    ) -> None:
        """Each wait twice the last; after the last poll the job is in review, saying why,
        and nothing polls it again."""
        stuck = SandboxSettings(speech="tone", running_seconds=3600)
        with run_sandbox(stuck) as server:
            settings = make_settings(
                database_url,
                redis_url,
                vpai_api_base_url=server.api_base_url,
                vpai_api_key=server.api_key,
                audio_dir=tmp_path / "audio",
                reconcile_max_polls=3,
            )
            ctx = build_context(settings, migrated_engine)
            upstream = Sandbox(server)
            store = EventStore(ctx.engine)
            broker = build_broker(settings)
            job_id = new_job(ctx.engine)
            submit_job(ctx, job_id)
            [attempt] = attempts(ctx.engine, job_id)
            wait_for(
                lambda: upstream.generation(str(attempt.generation_id))["status"] == "running",
                description="the generation leaves `queued` for its hour of `running`",
            )
            with ctx.engine.begin() as conn:
                conn.execute(update(ATTEMPTS).values(submitted_at=utcnow() - timedelta(hours=1)))
            waits = []
            for _ in range(2):
                served = upstream.workspace()["requests"]["served"]
                assert reconcile_once(ctx, store, partial(enqueue_events, broker)) == 0
                assert upstream.workspace()["requests"]["served"] == served + 1
                [polled] = attempts(ctx.engine, job_id)
                assert polled.next_poll_at is not None
                assert polled.last_polled_at is not None
                waits.append(round((polled.next_poll_at - polled.last_polled_at).total_seconds()))
                reconcile_once(ctx, store, partial(enqueue_events, broker))  # not due yet
                assert upstream.workspace()["requests"]["served"] == served + 1
                with ctx.engine.begin() as conn:  # time passes
                    conn.execute(
                        update(ATTEMPTS).values(next_poll_at=utcnow() - timedelta(seconds=1))
                    )
            assert waits == [600, 1200]
            assert job(ctx.engine, job_id).status == "submitted"
            reconcile_once(ctx, store, partial(enqueue_events, broker))  # the third, the last
            surfaced = job(ctx.engine, job_id)
            assert surfaced.status == "needs_review"
            assert surfaced.last_error is not None
            assert f"{attempt.generation_id} still 'running' after 3 polls" in surfaced.last_error
            served = upstream.workspace()["requests"]["served"]
            reconcile_once(ctx, store, partial(enqueue_events, broker))
            assert upstream.workspace()["requests"]["served"] == served
