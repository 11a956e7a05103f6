"""Accepting a voice to clone: samples put in the store, a voice row, the work left to a worker."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import Engine

from receiver.job_requests import CloneRequest
from records.customer_repo import customer_by_ref
from records.errors import UnknownCustomer
from records.ids import new_id
from records.jobs import Voice, VoiceStatus
from records.types import utcnow
from records.voice_repo import insert_voice
from storage.keys import sample_key
from storage.protocol import ObjectStore


def create_voice(
    engine: Engine, store: ObjectStore, scratch_dir: Path, request: CloneRequest
) -> Voice:
    """Store the samples durably (each a local file first, in `scratch_dir`), then the voice."""
    customer = customer_by_ref(engine, request.customer_ref)
    if customer is None:
        raise UnknownCustomer(request.customer_ref)
    voice_id = new_id()
    scratch_dir.mkdir(parents=True, exist_ok=True)
    for number, sample in enumerate(request.samples, start=1):
        # Named like a download's partial file, so the sweeper removes it after a crash.
        scratch = scratch_dir / f".{sample.filename}.{secrets.token_hex(8)}.part"
        try:
            with scratch.open("xb") as file:
                file.write(sample.content)
                file.flush()
                os.fsync(file.fileno())
            store.put(
                sample_key(voice_id, number, sample.filename),
                scratch,
                sha256=hashlib.sha256(sample.content).hexdigest(),
            )
        finally:
            scratch.unlink(missing_ok=True)
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
