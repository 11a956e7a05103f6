"""Notification fixtures: the app's endpoint, a notifier on the parametrised database, and
state changes made through the records' own transitions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine

from processors.notify_delivery import Notifier, build_notifier, deliver
from processors.notify_message import new_secret
from records.customer_repo import upsert_customer
from records.ids import new_id
from records.job_outcomes import attempt_for_generation, complete_job
from records.job_readying import StoredAudio
from records.job_repo import NewJob, create_job
from records.notify_endpoints import sync_env_endpoints
from records.outbox import publish_committed
from records.submission_repo import Submission, start_submission, submission_accepted
from storage.keys import LOCAL_STORE
from tests.conftest import make_settings
from tests.notify.app_endpoint import AppEndpoint, running_app_endpoint
from tests.waiting import wait_until

APP_SECRET = new_secret()


@pytest.fixture
def app_endpoint() -> Iterator[AppEndpoint]:
    with running_app_endpoint([APP_SECRET]) as endpoint:
        yield endpoint


@pytest.fixture
def published(migrated_engine: Engine) -> Iterator[list[str]]:
    """The delivery ids handed over after each commit on the test's engine."""
    ids: list[str] = []
    publish_committed(migrated_engine, ids.extend)
    yield ids
    publish_committed(migrated_engine, None)


@dataclass
class Scheduled:
    """The delayed messages a notifier asked for, in order."""

    calls: list[tuple[str, float]] = field(default_factory=list)

    def __call__(self, delivery_id: str, delay: float) -> None:
        self.calls.append((delivery_id, delay))


def notifier_for(
    engine: Engine, database_url: str, urls: list[str], **overrides: object
) -> Notifier:
    """A notifier as a worker builds it, with NOTIFY_URLS in the database; quick retries."""
    values: dict[str, object] = {
        "notify_urls": ",".join(urls),
        "notify_secret": APP_SECRET,
        "notify_retry_base_seconds": 0.05,
        "notify_retry_max_seconds": 0.2,
        "notify_timeout_seconds": 5,
    }
    values.update(overrides)
    settings = make_settings(database_url, None, **values)
    sync_env_endpoints(engine, settings.notify_urls)
    notifier = build_notifier(settings, engine)
    notifier.schedule = Scheduled()
    return notifier


@dataclass
class Outbox:
    """A test's outbox on the parametrised database: the app's endpoint, and the delivery
    ids handed over after each commit."""

    engine: Engine
    database_url: str
    app: AppEndpoint
    published: list[str]

    def notifier(self, **overrides: object) -> Notifier:
        """A notifier as a worker builds it, sending to the app's endpoint (NOTIFY_URLS)."""
        return notifier_for(self.engine, self.database_url, [self.app.url], **overrides)


@pytest.fixture
def outbox(
    migrated_engine: Engine, database_url: str, app_endpoint: AppEndpoint, published: list[str]
) -> Outbox:
    return Outbox(migrated_engine, database_url, app_endpoint, published)


def submitting_job(engine: Engine, customer_id: str) -> Submission:
    """A new job of the customer, claimed for its first submission."""
    job = create_job(
        engine,
        NewJob(
            customer_id=customer_id,
            customer_ref=None,
            voice_id="voice-1",
            script="Hello.",
            audio_format="wav",
            settings={},
            max_attempts=3,
        ),
    )
    submission = start_submission(engine, job.id)
    assert submission is not None
    return submission


def make_ready_job(engine: Engine, *, credits: int = 5) -> tuple[str, str]:
    """A customer's job submitted and made ready by the real transitions: (job id, customer id)."""
    customer, _ = upsert_customer(engine, f"acme-{new_id()}", "Acme Ltd")
    submission = submitting_job(engine, customer.id)
    generation = f"gen-{submission.job_id}"
    submission_accepted(engine, submission, generation, credits)
    view = attempt_for_generation(engine, generation, untracked_format="mp3", max_attempts=3)
    assert view is not None
    assert complete_job(
        engine,
        view,
        StoredAudio(LOCAL_STORE, f"{customer.id}/{submission.job_id}.wav", 100, "ab" * 32, 1.5),
    )
    return submission.job_id, customer.id


def deliver_until_settled(notifier: Notifier, delivery_ids: list[str]) -> list[str]:
    """Try each delivery, and each retry the notifier schedules once it is due, until none
    is left to try; every outcome, in order."""
    scheduled = notifier.schedule
    assert isinstance(scheduled, Scheduled)
    outcomes = [deliver(notifier, delivery_id) for delivery_id in delivery_ids]
    while scheduled.calls:
        delivery_id, _ = scheduled.calls.pop(0)
        outcomes.append(due_again(notifier, delivery_id))
    return outcomes


def due_again(notifier: Notifier, delivery_id: str) -> str:
    """The outcome of the delivery's next try, once it is due."""

    def tried() -> str | None:
        outcome = deliver(notifier, delivery_id)
        return None if outcome == "nothing to do" else outcome

    return wait_until(tried, description=f"delivery {delivery_id} due again")
