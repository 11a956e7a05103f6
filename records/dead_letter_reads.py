"""What the database says about the rows dead-lettered messages were for: each one's status
and the error it recorded (`voicehook dead-letters list`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, Table, select

from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from records.events import EVENTS
from records.jobs import JOBS, VOICES
from records.outbox_tables import NOTIFY_DELIVERIES

# The table each actor's one argument is the id of; every one has `status` and `last_error`.
TABLES: Mapping[str, Table] = {
    PROCESS_EVENT_ACTOR: EVENTS,
    SUBMIT_JOB_ACTOR: JOBS,
    CLONE_VOICE_ACTOR: VOICES,
    DELIVER_NOTIFICATION_ACTOR: NOTIFY_DELIVERIES,
}


@dataclass(frozen=True)
class RecordedState:
    status: str
    error: str | None


def recorded_states(
    engine: Engine, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], RecordedState]:
    """(actor, id) -> the row's status and last error, for each ref whose row exists (an
    unknown actor or a deleted row is simply absent)."""
    wanted: dict[str, set[str]] = {}
    for actor, entity_id in refs:
        if actor in TABLES:
            wanted.setdefault(actor, set()).add(entity_id)
    found: dict[tuple[str, str], RecordedState] = {}
    with engine.connect() as conn:
        for actor, ids in wanted.items():
            table = TABLES[actor]
            query = select(table.c.id, table.c.status, table.c.last_error).where(
                table.c.id.in_(sorted(ids))
            )
            for entity_id, status, error in conn.execute(query):
                found[(actor, entity_id)] = RecordedState(status, error)
    return found
