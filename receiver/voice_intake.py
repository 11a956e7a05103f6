"""Accepting a voice to clone: samples kept on disk, a voice row, the work left to a worker."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from receiver.job_requests import CloneRequest
from records.customer_repo import customer_by_ref
from records.errors import UnknownCustomer
from records.ids import new_id
from records.jobs import Voice, VoiceStatus, voice_samples_dir
from records.types import utcnow
from records.voice_repo import insert_voice


def create_voice(engine: Engine, audio_dir: Path, request: CloneRequest) -> Voice:
    """Store the samples durably, then the voice that will be cloned from them."""
    customer = customer_by_ref(engine, request.customer_ref)
    if customer is None:
        raise UnknownCustomer(request.customer_ref)
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
        customer_id=customer.id,
        name=request.name,
        status=VoiceStatus.UPLOADING.value,
        sample_paths=[],
        created_at=now,
        updated_at=now,
    )
    insert_voice(engine, voice)
    return voice
