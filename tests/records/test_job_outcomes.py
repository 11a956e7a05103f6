"""A job's completion: its attempts, its event, its customer's usage — in one transaction."""

from __future__ import annotations

from functools import partial

from sqlalchemy import Engine, insert, select

from records.claims import settle_on
from records.events import EventStatus
from records.job_outcomes import StoredAudio, attempt_for_generation, complete_job
from records.jobs import ATTEMPTS, AttemptStatus
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
        settle = partial(settle_on, event_id=event_id, status=EventStatus.PROCESSED, error=None)
        assert complete_job(migrated_engine, view, AUDIO, also=settle)
        assert statuses(migrated_engine, view.job_id) == {
            1: ("ready", True),
            2: ("failed", False),
            3: ("superseded", False),
        }
        assert job(migrated_engine, view.job_id).status == "ready"
        assert event(migrated_engine, event_id).status == "processed"
        assert not complete_job(migrated_engine, view, AUDIO)  # once
