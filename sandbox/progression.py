"""How a generation moves `queued → running → enhancing → ready | failed`, as a pure function.

Each phase lasts its configured time on the sandbox clock. `running` also waits until the
audio file is rendered, so `ready` is never shown for a file that is not on disk. Every step
is dated when its phase was due (not when it was noticed, nor when a slow render finished),
so advancing the clock by a lot carries a generation through every phase at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    ENHANCING = "enhancing"
    READY = "ready"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (GenerationStatus.READY, GenerationStatus.FAILED)


NEXT = {
    GenerationStatus.QUEUED: GenerationStatus.RUNNING,
    GenerationStatus.RUNNING: GenerationStatus.ENHANCING,
    GenerationStatus.ENHANCING: GenerationStatus.READY,
}
FAILURE_REASONS = {
    GenerationStatus.RUNNING: "synthesis_failed",
    GenerationStatus.ENHANCING: "enhancement_failed",
}


@dataclass(frozen=True)
class Timing:
    queued: float
    running: float
    enhancing: float

    def duration(self, status: GenerationStatus) -> float:
        return {
            GenerationStatus.QUEUED: self.queued,
            GenerationStatus.RUNNING: self.running,
            GenerationStatus.ENHANCING: self.enhancing,
        }.get(status, 0.0)


@dataclass(frozen=True)
class Step:
    """A transition into `status` that took effect at `since` (monotonic sandbox seconds)."""

    status: GenerationStatus
    since: float
    error: str | None = None


def next_step(
    status: GenerationStatus,
    since: float,
    now: float,
    timing: Timing,
    *,
    fails_in: GenerationStatus | None = None,
    rendered: bool = False,
) -> Step | None:
    """The one transition due at `now`, or None while the current phase is still on."""
    if status.terminal:
        return None
    due = since + timing.duration(status)
    if now < due:
        return None
    if fails_in is status:
        return Step(GenerationStatus.FAILED, due, FAILURE_REASONS[status])
    if status is GenerationStatus.RUNNING and not rendered:
        return None
    return Step(NEXT[status], due)


def due_steps(
    status: GenerationStatus,
    since: float,
    now: float,
    timing: Timing,
    *,
    fails_in: GenerationStatus | None = None,
    rendered: bool = False,
) -> list[Step]:
    """Every transition due at `now`, in order (several when the clock jumped)."""
    steps: list[Step] = []
    while step := next_step(status, since, now, timing, fails_in=fails_in, rendered=rendered):
        steps.append(step)
        status, since = step.status, step.since
    return steps
