"""`voicehook jobs prune`: retention for audio. The objects of jobs ready before a cutoff are
deleted from the store, and each job records when (its facts stay, as history; its audio
route answers 410 from then on).

The object goes first, then the record: a run stopped between the two leaves a job whose
object is gone but not yet marked, which the next run deletes (a no-op) and marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from records.audio_records import mark_audio_pruned, prunable_audio
from storage.protocol import ObjectStore

BATCH = 200


@dataclass
class PruneResult:
    jobs: int = 0  # jobs whose audio was (or, dry, would be) deleted
    bytes: int = 0
    elsewhere: int = 0  # old audio in another store than this service's: left alone


def prune_audio(
    engine: Engine, store: ObjectStore, ready_before: datetime, *, dry_run: bool = False
) -> PruneResult:
    """Delete (or, dry, count) the audio of jobs ready before `ready_before`."""
    result = PruneResult()
    after = ""
    while batch := prunable_audio(engine, ready_before, after, BATCH):
        for record in batch:
            after = record.job_id
            assert record.key is not None
            if record.store != store.name:
                result.elsewhere += 1
                continue
            if not dry_run:
                store.delete(record.key)
                mark_audio_pruned(engine, record.job_id)
            result.jobs += 1
            result.bytes += record.size or 0
    return result
