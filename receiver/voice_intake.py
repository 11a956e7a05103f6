"""Accepting a voice to clone: samples put in the store, then a voice row (in the transaction
of its Idempotency-Key, `receiver.api_voices`), the work left to a worker."""

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
from storage.keys import sample_key
from storage.protocol import ObjectStore


def new_voice(engine: Engine, request: CloneRequest) -> Voice:
    """The voice a request asks for, not stored yet; UnknownCustomer if there is none."""
    customer = customer_by_ref(engine, request.customer_ref)
    if customer is None:
        raise UnknownCustomer(request.customer_ref)
    now = utcnow()
    return Voice(
        id=new_id(),
        customer_id=customer.id,
        name=request.name,
        status=VoiceStatus.UPLOADING.value,
        sample_paths=[],
        created_at=now,
        updated_at=now,
    )


def upload_samples(
    store: ObjectStore, scratch_dir: Path, voice_id: str, request: CloneRequest
) -> None:
    """Put each sample of the request in the store under the voice's keys."""
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


def discard_samples(store: ObjectStore, voice_id: str, request: CloneRequest) -> None:
    """Remove the samples of a voice that was never stored (a concurrent request won)."""
    for number, sample in enumerate(request.samples, start=1):
        store.delete(sample_key(voice_id, number, sample.filename))
