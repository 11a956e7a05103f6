"""Accepting a voice to clone: samples kept on disk, a voice row, the work left to a worker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from config.database import session_scope
from receiver.job_requests import CloneRequest
from records.errors import UnknownCustomer
from records.ids import new_id
from records.jobs import Customer, Voice, VoiceStatus, voice_samples_dir
from records.types import utcnow


def create_voice(engine: Engine, audio_dir: Path, request: CloneRequest) -> Voice:
    """Store the samples durably, then the voice that will be cloned from them."""
    with session_scope(engine, write=False) as session:
        customer = session.exec(
            select(Customer).where(Customer.external_ref == request.customer_ref)
        ).first()
        if customer is None:
            raise UnknownCustomer(request.customer_ref)
        customer_id = customer.id
    voice_id = new_id()
    folder = voice_samples_dir(audio_dir, voice_id)
    folder.mkdir(parents=True, exist_ok=True)
    for number, sample in enumerate(request.samples, start=1):
        path = folder / f"{number:02d}-{sample.filename}"
        with path.open("wb") as file:
            file.write(sample.content)
            file.flush()
            os.fsync(file.fileno())
    now = utcnow()
    voice = Voice(
        id=voice_id,
        customer_id=customer_id,
        name=request.name,
        status=VoiceStatus.UPLOADING.value,
        sample_paths=[],
        created_at=now,
        updated_at=now,
    )
    with session_scope(engine) as session:
        session.add(voice)
    return voice


def voice_document(engine: Engine, voice_id: str) -> dict[str, Any] | None:
    with session_scope(engine, write=False) as session:
        voice = session.get(Voice, voice_id)
        if voice is None:
            return None
        return {
            "id": voice.id,
            "customerId": voice.customer_id,
            "name": voice.name,
            "status": voice.status,
            "voiceId": voice.voice_id,
            "cloneJobId": voice.clone_job_id,
            "lastError": voice.last_error,
        }
