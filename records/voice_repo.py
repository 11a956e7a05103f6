"""Cloned voices: accepted, uploaded and cloned step by step, made ready by the upstream's
word (a `voice.cloned` webhook or `GET /v1/voices`), and recovered when forgotten."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, insert, or_, select, update

from config.database import transaction
from records.documents import voice_document_on, voice_summary
from records.jobs import CUSTOMERS, VOICES, Voice, VoiceStatus
from records.keyset import Page, Position, cut, page_query
from records.outbox import notify
from records.outbox_tables import EventType
from records.types import utcnow


def insert_voice_on(conn: Connection, voice: Voice) -> None:
    """A new voice, in the caller's transaction (its Idempotency-Key's, for the API)."""
    conn.execute(insert(VOICES).values(asdict(voice)))


def find_voice(engine: Engine, voice_id: str) -> Voice | None:
    with engine.connect() as conn:
        row = conn.execute(select(VOICES).where(VOICES.c.id == voice_id)).mappings().first()
    return None if row is None else Voice(**row)


def voice_document(engine: Engine, voice_id: str) -> dict[str, Any] | None:
    """A voice as the internal API shows it."""
    with engine.connect() as conn:
        return voice_document_on(conn, voice_id)


def page_voices(engine: Engine, customer: str | None, after: Position | None, limit: int) -> Page:
    """A page of cloned voices (of one customer, by id or reference), newest first."""
    query = select(VOICES)
    if customer is not None:
        named = or_(CUSTOMERS.c.id == customer, CUSTOMERS.c.external_ref == customer)
        query = query.where(VOICES.c.customer_id.in_(select(CUSTOMERS.c.id).where(named)))
    with engine.connect() as conn:
        voices = [
            Voice(**row) for row in conn.execute(page_query(VOICES, query, after, limit)).mappings()
        ]
    return cut(voices, [voice_summary(v) for v in voices], limit)


def update_voice(engine: Engine, voice_id: str, **values: object) -> None:
    """Set these columns of the voice (a step of its cloning), touching updated_at."""
    with transaction(engine) as conn:
        conn.execute(
            update(VOICES).where(VOICES.c.id == voice_id).values(**values, updated_at=utcnow())
        )


def voice_failed(engine: Engine, voice_id: str, reason: str) -> None:
    """The upstream refused to clone this voice, for `reason`."""
    with transaction(engine) as conn:
        conn.execute(
            update(VOICES)
            .where(VOICES.c.id == voice_id)
            .values(status=VoiceStatus.FAILED.value, last_error=reason, updated_at=utcnow())
        )
        notify(conn, EventType.VOICE_FAILED, voice_id)


def voice_cloned(engine: Engine, clone_job_id: str | None, voice_id: str, name: str | None) -> bool:
    """The voice of this clone job (or with this voice id; a new one if neither) is ready
    under `voice_id`; False when it already was."""
    now = utcnow()
    with transaction(engine) as conn:
        voice = _cloned_voice(conn, clone_job_id, voice_id)
        if voice is None:
            voice = Voice(
                id=str(uuid4()),
                clone_job_id=clone_job_id,
                status=VoiceStatus.CLONING.value,
                created_at=now,
                updated_at=now,
            )
            conn.execute(insert(VOICES).values(asdict(voice)))
        if voice.status == VoiceStatus.READY and voice.voice_id == voice_id:
            return False
        values: dict[str, Any] = {
            "voice_id": voice_id,
            "status": VoiceStatus.READY.value,
            "updated_at": now,
        }
        if name:
            values["name"] = name
        conn.execute(update(VOICES).where(VOICES.c.id == voice.id).values(**values))
        notify(conn, EventType.VOICE_READY, voice.id)
        return True


def _cloned_voice(conn: Connection, clone_job_id: str | None, voice_id: str) -> Voice | None:
    """The voice of this clone job, else the one already under this voice id."""
    row = None
    if clone_job_id is not None:
        row = _first(conn, VOICES.c.clone_job_id == clone_job_id)
    if row is None:
        row = _first(conn, VOICES.c.voice_id == voice_id)
    return None if row is None else Voice(**row)


def _first(conn: Connection, condition: ColumnElement[bool]) -> RowMapping | None:
    return conn.execute(select(VOICES).where(condition)).mappings().first()


def mark_clones_ready(engine: Engine, upstream_by_clone_job: Mapping[str, str]) -> int:
    """Voices still cloning whose clone job the upstream lists as a voice (clone job id →
    voice id) are ready under that id; how many."""
    now = utcnow()
    updated = 0
    with transaction(engine) as conn:
        waiting = conn.execute(
            select(VOICES.c.id, VOICES.c.clone_job_id).where(
                VOICES.c.status == VoiceStatus.CLONING.value
            )
        ).all()
        for row_id, clone_job_id in waiting:
            found = upstream_by_clone_job.get(clone_job_id or "")
            if found is None:
                continue
            conn.execute(
                update(VOICES)
                .where(VOICES.c.id == row_id)
                .values(voice_id=found, status=VoiceStatus.READY.value, updated_at=now)
            )
            notify(conn, EventType.VOICE_READY, row_id)
            updated += 1
    return updated


def recover_voices(
    engine: Engine,
    enqueue_clone: Callable[[str], None],
    *,
    forgotten_after_seconds: float,
    limit: int = 100,
) -> int:
    """Re-enqueue voices still uploading that nobody has touched for a while."""
    now = utcnow()
    forgotten = now - timedelta(seconds=forgotten_after_seconds)
    with transaction(engine) as conn:
        voice_ids = list(
            conn.execute(
                select(VOICES.c.id)
                .where(
                    VOICES.c.status == VoiceStatus.UPLOADING.value,
                    VOICES.c.updated_at <= forgotten,
                )
                .limit(limit)
            ).scalars()
        )
        if voice_ids:
            conn.execute(update(VOICES).where(VOICES.c.id.in_(voice_ids)).values(updated_at=now))
    for voice_id in voice_ids:
        enqueue_clone(voice_id)
    return len(voice_ids)
