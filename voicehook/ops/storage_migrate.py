"""`voicehook storage migrate`: copy the files of one store into another, then repoint.

Resumable and idempotent: each job's audio is copied (skipped when the target already
holds it with the recorded sha256), and only then is its record repointed, one job per
transaction; so a run stopped anywhere is continued by running it again, and a second run
over finished work copies nothing. Voice samples have no record to repoint (their keys are
derived from the voice); each is copied unless the target has it. The source's files are
left where they are: delete them once the service runs on the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from records.audio_records import JobAudio, audio_in_store, count_audio_in_store, repoint_audio
from storage.keys import SAMPLES_FOLDER, media_type
from storage.protocol import ObjectStore, duration_metadata
from storage.transfer import spooled

BATCH = 100
Advance = Callable[[], None]


@dataclass
class MigrationResult:
    copied: int = 0  # objects uploaded by this run
    present: int = 0  # already in the target with the same sha256 (an earlier run's)
    repointed: int = 0  # job records now naming the target
    problems: dict[str, str] = field(default_factory=dict)  # key -> what is wrong with it


def work_to_do(engine: Engine, source: ObjectStore) -> int:
    """How many objects a run will look at: the jobs' audio and the voice samples."""
    return count_audio_in_store(engine, source.name) + len(source.keys(SAMPLES_FOLDER))


def migrate(
    engine: Engine, source: ObjectStore, target: ObjectStore, scratch: Path, advance: Advance
) -> MigrationResult:
    """Copy every job's audio recorded in `source`, and every voice sample, into `target`."""
    copier = _Copier(source, target, scratch)
    after = ""
    while batch := audio_in_store(engine, source.name, after, BATCH):
        for record in batch:
            after = record.job_id
            if copier.copy_job_audio(record):
                repointed = repoint_audio(engine, record.job_id, source.name, target.name)
                copier.result.repointed += int(repointed)
            advance()
    for key in source.keys(SAMPLES_FOLDER):
        copier.copy(key)
        advance()
    return copier.result


class _Copier:
    def __init__(self, source: ObjectStore, target: ObjectStore, scratch: Path) -> None:
        self.source = source
        self.target = target
        self.scratch = scratch
        self.result = MigrationResult()

    def copy_job_audio(self, record: JobAudio) -> bool:
        assert record.key is not None
        metadata = duration_metadata(record.duration_sec)
        return self.copy(record.key, record.sha256, media_type(record.format), metadata)

    def copy(
        self,
        key: str,
        sha256: str | None = None,
        kind: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> bool:
        """Whether the target now holds `key` (with `sha256`, when the records know it)."""
        held = self.target.stat(key)
        if held is not None and sha256 is not None and held.sha256 == sha256:
            self.result.present += 1
            return True
        if self.source.stat(key) is None:
            self.result.problems[key] = f"not in {self.source.name}"
            return False
        with spooled(self.source, key, self.scratch) as (path, actual):
            if held is not None and held.sha256 == actual:
                self.result.present += 1
                return True
            if sha256 is not None and actual != sha256:
                self.result.problems[key] = (
                    f"its sha256 in {self.source.name} is not the recorded one"
                )
                return False
            self.target.put(key, path, sha256=actual, media_type=kind, metadata=metadata)
        self.result.copied += 1
        return True
