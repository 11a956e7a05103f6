"""The Dramatiq actors: thin shells that take an id and call a plain function.

Import this module only after `processors.worker.bootstrap` has set the broker and the
processing context (Dramatiq binds actors to the broker set at import time).
"""

from __future__ import annotations

import dramatiq

from config.queues import (
    CLONE_VOICE_ACTOR,
    EVENTS_QUEUE,
    JOBS_QUEUE,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from processors import dispatch
from processors.errors import RetryLater, TransientApiError
from processors.handlers.clone import clone_voice as clone_voice_now
from processors.handlers.submit import submit_job as submit_job_now
from processors.runtime import current_context

TEN_MINUTES_MS = 10 * 60 * 1000


@dramatiq.actor(
    actor_name=PROCESS_EVENT_ACTOR,
    queue_name=EVENTS_QUEUE,
    max_retries=20,
    time_limit=TEN_MINUTES_MS,
    notify_shutdown=True,
)
def process_event(event_id: str) -> None:
    def requeue(delay_seconds: float) -> None:
        process_event.send_with_options(args=(event_id,), delay=int(delay_seconds * 1000))

    dispatch.process_event(current_context(), event_id, requeue)


@dramatiq.actor(
    actor_name=SUBMIT_JOB_ACTOR,
    queue_name=JOBS_QUEUE,
    max_retries=20,
    time_limit=TEN_MINUTES_MS,
    notify_shutdown=True,
)
def submit_job(job_id: str) -> None:
    try:
        submit_job_now(current_context(), job_id)
    except RetryLater as exc:
        submit_job.send_with_options(args=(job_id,), delay=int(exc.delay_seconds * 1000))


@dramatiq.actor(
    actor_name=CLONE_VOICE_ACTOR,
    queue_name=JOBS_QUEUE,
    max_retries=20,
    time_limit=TEN_MINUTES_MS,
    notify_shutdown=True,
)
def clone_voice(voice_id: str) -> None:
    try:
        clone_voice_now(current_context(), voice_id)
    except TransientApiError as exc:
        clone_voice.send_with_options(args=(voice_id,), delay=int(exc.retry_after_seconds * 1000))
