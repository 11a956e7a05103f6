"""An operator's word on a job whose submission outcome is unknown: adopt a generation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from processors.errors import AdoptionRefused
from records.adoption import (
    GenerationOwner,
    adopt_generation,
    generation_owner,
    open_unknown_attempt,
    take_over_untracked,
)
from records.job_repo import find_job
from storage.keys import job_audio_key, media_type
from storage.protocol import ObjectStore, duration_metadata
from storage.transfer import copy_object


def adopt_for_operator(
    engine: Engine, store: ObjectStore, scratch: Path, job_id: str, generation_id: str
) -> str:
    """Make `generation_id` the job's unknown attempt; a note of what was done.

    A generation filed as an untracked job brings its attempt, audio and usage along (the
    audio is copied to the job's key in `store`, through `scratch`, then the untracked
    job's object is deleted); one nobody recorded is polled by reconciliation, or settled
    by its webhook. Raises AdoptionRefused, or an ObjectStoreError when the store fails
    (nothing is recorded then).
    """
    job = find_job(engine, job_id)
    if job is None:
        raise AdoptionRefused(f"no job {job_id}")
    unknown = open_unknown_attempt(engine, job_id)
    if unknown is None:
        raise AdoptionRefused(
            f"job {job_id} is {job.status} with no submission of unknown outcome to adopt for"
        )
    owner = generation_owner(engine, generation_id)
    if owner.job_id is not None and owner.tracked:
        raise AdoptionRefused(f"generation {generation_id} belongs to job {owner.job_id}")
    if owner.job_id is None:
        attempt_id, intent_at = unknown
        # Dated at the intent, so that reconciliation polls it at once.
        if not adopt_generation(engine, attempt_id, generation_id, intent_at):
            raise AdoptionRefused(f"job {job_id} changed meanwhile; look again")
        return f"generation {generation_id} adopted; reconciliation will poll it"
    new_key = _audio_place(store, scratch, owner, job.customer_id, job_id)
    if not take_over_untracked(engine, job_id, generation_id, new_key):
        if new_key is not None:
            store.delete(new_key)  # nobody's: the records still name the untracked key
        raise AdoptionRefused(f"job {job_id} changed meanwhile; look again")
    if owner.audio_path is not None and new_key is not None:
        store.delete(owner.audio_path)
    return f"generation {generation_id} adopted from untracked job {owner.job_id}"


def _audio_place(
    store: ObjectStore, scratch: Path, owner: GenerationOwner, customer_id: str | None, job_id: str
) -> str | None:
    """Copy the untracked job's audio to the job's key (before the records say so, so a
    crash leaves at most a spare object); that key, or None to keep it where it is.

    Audio recorded in another store than this one (a migration under way) stays there: the
    records keep naming its store and key.
    """
    if owner.audio_path is None or owner.format is None or owner.audio_store != store.name:
        return None
    key = job_audio_key(customer_id, job_id, owner.format)
    copy_object(
        store,
        owner.audio_path,
        store,
        key,
        scratch,
        sha256=owner.audio_sha256,
        media_type=media_type(owner.format),
        metadata=duration_metadata(owner.audio_duration_sec),
    )
    return key
