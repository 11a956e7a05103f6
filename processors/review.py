"""An operator's word on a job whose submission outcome is unknown: adopt a generation."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from processors.errors import AdoptionRefused
from records.adoption import (
    adopt_generation,
    generation_owner,
    open_unknown_attempt,
    take_over_untracked,
)
from records.job_repo import find_job


def adopt_for_operator(engine: Engine, audio_dir: Path, job_id: str, generation_id: str) -> str:
    """Make `generation_id` the job's unknown attempt; a note of what was done.

    A generation filed as an untracked job brings its attempt, audio and usage along (the
    file moves to the job's place in the store); one nobody recorded is polled by
    reconciliation, or settled by its webhook.
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
    new_path = _audio_place(audio_dir, owner.audio_path, job.customer_id, job_id)
    if not take_over_untracked(
        engine, job_id, generation_id, None if new_path is None else str(new_path)
    ):
        raise AdoptionRefused(f"job {job_id} changed meanwhile; look again")
    if owner.audio_path is not None and new_path is not None:
        (audio_dir / owner.audio_path).unlink(missing_ok=True)
    return f"generation {generation_id} adopted from untracked job {owner.job_id}"


def _audio_place(
    audio_dir: Path, current: str | None, customer_id: str | None, job_id: str
) -> Path | None:
    """Link the untracked job's file into the job's place (before the records say so, so
    a crash leaves at most a spare file); its path relative to AUDIO_DIR."""
    if current is None:
        return None
    source = audio_dir / current
    relative = Path(customer_id or "untracked") / f"{job_id}{source.suffix}"
    target = audio_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.link(source, target)
    return relative
