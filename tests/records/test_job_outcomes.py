"""A job's completion: its attempts, its event, its customer's usage — in one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, insert, select, update

from records.attempt_views import AttemptView, find_attempt
from records.customer_repo import customer_by_ref, upsert_customer
from records.job_outcomes import attempt_for_generation, complete_job
from records.job_readying import StoredAudio
from records.jobs import ATTEMPTS, JOBS, AttemptStatus
from records.notify_endpoints import add_endpoint
from records.outbox_tables import NOTIFICATIONS
from records.types import utcnow
from tests.processors.flow import event, job, store_event

AUDIO = StoredAudio("local", "untracked/a.wav", 88_000, "0" * 64, 2.0)


def statuses(engine: Engine, job_id: str) -> dict[int, tuple[str, bool]]:
    """Each attempt's status and whether it has a completion time, by number."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ATTEMPTS.c.number, ATTEMPTS.c.status, ATTEMPTS.c.completed_at).where(
                ATTEMPTS.c.job_id == job_id
            )
        )
        return {row.number: (row.status, row.completed_at is not None) for row in rows}


class TestCompleteJob:
    def test_the_ready_attempt_completes_and_the_others_in_flight_are_superseded(
        self, migrated_engine: Engine
    ) -> None:
        """The attempt whose audio arrived is ready (with its time); another still submitted
        is superseded, one that failed before stays failed; the event settles with them."""
        view = attempt_for_generation(
            migrated_engine, "gen-first", untracked_format="wav", max_attempts=3
        )
        with migrated_engine.begin() as conn:
            for number, status in ((2, AttemptStatus.FAILED), (3, AttemptStatus.SUBMITTED)):
                conn.execute(
                    insert(ATTEMPTS).values(
                        id=f"attempt-{number}",
                        job_id=view.job_id,
                        number=number,
                        generation_id=f"gen-{number}",
                        status=status.value,
                        submitted_at=utcnow(),
                    )
                )
        event_id = store_event(migrated_engine, "generation.ready", {"id": "gen-first"})
        assert complete_job(migrated_engine, view, AUDIO, settles=event_id)
        assert statuses(migrated_engine, view.job_id) == {
            1: ("ready", True),
            2: ("failed", False),
            3: ("superseded", False),
        }
        assert job(migrated_engine, view.job_id).status == "ready"
        assert event(migrated_engine, event_id).status == "processed"
        assert not complete_job(migrated_engine, view, AUDIO)  # once


def customer_job_with_two_attempts(engine: Engine) -> tuple[AttemptView, AttemptView]:
    """A job of customer `acme` whose attempts 1 (`gen-one`) and 2 (`gen-two`) are both
    submitted, each estimated at 3 credits; their views."""
    customer, _ = upsert_customer(engine, "acme", "Acme")
    first = attempt_for_generation(engine, "gen-one", untracked_format="wav", max_attempts=3)
    with engine.begin() as conn:
        conn.execute(update(JOBS).where(JOBS.c.id == first.job_id).values(customer_id=customer.id))
        conn.execute(update(ATTEMPTS).values(estimated_credits=3))
        conn.execute(
            insert(ATTEMPTS).values(
                id="attempt-2",
                job_id=first.job_id,
                number=2,
                generation_id="gen-two",
                status=AttemptStatus.SUBMITTED.value,
                estimated_credits=3,
                submitted_at=utcnow(),
            )
        )
    one, two = find_attempt(engine, "gen-one"), find_attempt(engine, "gen-two")
    assert one is not None
    assert two is not None
    return one, two


def notifications(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(NOTIFICATIONS)).scalar_one())


class TestCompleteJobOnce:
    @pytest.mark.parametrize("endpoint", [False, True], ids=["no endpoint", "an endpoint"])
    def test_usage_counts_once_and_a_late_attempt_still_settles_its_event(
        self, migrated_engine: Engine, endpoint: bool
    ) -> None:
        """The first completion makes the job ready, supersedes the other attempt, counts the
        customer's usage and settles its event, with a notification per change when an
        endpoint is registered; the other attempt's audio arriving after it sets that
        attempt ready and settles its event, and counts and notifies nothing."""
        if endpoint:
            add_endpoint(
                migrated_engine, "http://app.test/", secret="s", event_types=[], max_in_flight=None
            )
        one, two = customer_job_with_two_attempts(migrated_engine)
        first_event = store_event(migrated_engine, "generation.ready", {"id": "gen-one"})
        late_event = store_event(migrated_engine, "generation.ready", {"id": "gen-two"})

        assert complete_job(migrated_engine, one, AUDIO, settles=first_event)
        assert statuses(migrated_engine, one.job_id) == {
            1: ("ready", True),
            2: ("superseded", False),
        }
        assert event(migrated_engine, first_event).status == "processed"
        assert notifications(migrated_engine) == (2 if endpoint else 0)

        assert not complete_job(migrated_engine, two, AUDIO, settles=late_event)
        assert statuses(migrated_engine, one.job_id) == {1: ("ready", True), 2: ("ready", True)}
        assert event(migrated_engine, late_event).status == "processed"
        assert notifications(migrated_engine) == (2 if endpoint else 0)
        usage = customer_by_ref(migrated_engine, "acme")
        assert usage is not None
        assert (usage.jobs_ready, usage.audio_seconds, usage.credits_spent) == (1, 2.0, 3)
        assert job(migrated_engine, one.job_id).credits == 3
