"""The Dramatiq actors: thin shells that take an id and call a plain function.

Import this module only after `processors.worker.start_worker` has set the broker and the
processing context (Dramatiq binds actors to the broker set at import time).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import dramatiq

from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    EVENTS_QUEUE,
    JOBS_QUEUE,
    NOTIFICATIONS_QUEUE,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from processors import dispatch
from processors.database_busy import postponed_when_busy
from processors.errors import RetryLater, WorkerNotStarted
from processors.handlers.clone import clone_voice as clone_voice_now
from processors.handlers.submit import submit_job as submit_job_now
from processors.notify_delivery import deliver
from processors.worker import current_context

# Every actor: retried by the broker on unexpected errors (the handlers' own waits are
# delayed messages), stopped by a ten-minute limit, told when the worker shuts down.
OPTIONS: dict[str, Any] = {"max_retries": 20, "time_limit": 10 * 60 * 1000, "notify_shutdown": True}


def _later(actor: dramatiq.Actor[..., Any], arg: str, delay_seconds: float) -> None:
    actor.send_with_options(args=(arg,), delay=int(delay_seconds * 1000))


@dramatiq.actor(actor_name=PROCESS_EVENT_ACTOR, queue_name=EVENTS_QUEUE, **OPTIONS)
def process_event(event_id: str) -> None:
    dispatch.process_event(current_context(), event_id, partial(_later, process_event, event_id))


@dramatiq.actor(actor_name=SUBMIT_JOB_ACTOR, queue_name=JOBS_QUEUE, **OPTIONS)
def submit_job(job_id: str) -> None:
    try:
        with postponed_when_busy():
            submit_job_now(current_context(), job_id)
    except RetryLater as exc:
        _later(submit_job, job_id, exc.delay_seconds)


@dramatiq.actor(actor_name=CLONE_VOICE_ACTOR, queue_name=JOBS_QUEUE, **OPTIONS)
def clone_voice(voice_id: str) -> None:
    try:
        with postponed_when_busy():
            clone_voice_now(current_context(), voice_id)
    except RetryLater as exc:
        _later(clone_voice, voice_id, exc.delay_seconds)


@dramatiq.actor(
    actor_name=DELIVER_NOTIFICATION_ACTOR,
    queue_name=NOTIFICATIONS_QUEUE,
    max_retries=20,
    time_limit=5 * 60 * 1000,  # longer than a try (three time-outs); the lease outlasts it
    notify_shutdown=True,
)
def deliver_notification(delivery_id: str) -> None:
    notifier = current_context().notifier
    if notifier is None:
        raise WorkerNotStarted("this worker was started without a notifier")
    deliver(notifier, delivery_id)
