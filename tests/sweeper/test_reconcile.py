"""Reconciliation: an attempt whose webhook never came is polled, at the lowest priority."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import update
from sqlmodel import Session, select

from config.broker import build_broker, enqueue_events
from processors.budget import Priority
from processors.handlers.submit import submit_job
from processors.worker import ProcessorContext
from records.event_store import EventStore
from records.events import Event
from records.jobs import Attempt
from records.types import utcnow
from sweeper.reconcile import reconcile_once
from tests.conftest import make_settings
from tests.processors.flow import Sandbox, attempts, job, new_job, process, store_event
from tests.receiver.conftest import enqueued_event_ids


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
