"""`voicehook jobs`: a group whose commands are imported only when they run.

The reads (`job_reads`: list, show) need the database's stack only; the changes
(`job_changes`) the receiver's request models, the broker, the object store and the
processors. So `voicehook jobs --help` imports neither, and `jobs list` nothing of what a
change needs (issue 13's start-up time; `python -m bench startup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import typer

from voicehook.lazy_group import Entry, LazyGroup

READS = "voicehook.commands.job_reads"
CHANGES = "voicehook.commands.job_changes"


class JobsGroup(LazyGroup):
    entries: ClassVar[Mapping[str, Entry]] = {
        "submit": Entry(
            f"{CHANGES}:submit",
            "Accept a job for a customer; a worker submits it within the API budget.",
        ),
        "list": Entry(f"{READS}:list_jobs", "List jobs, newest first."),
        "show": Entry(f"{READS}:show", "One job with its attempts and audio facts."),
        "resume": Entry(
            f"{CHANGES}:resume",
            "Resume jobs blocked by insufficient credits, after topping up the workspace.",
        ),
        "retry": Entry(
            f"{CHANGES}:retry",
            "Give failed jobs one new attempt (a new paid generation), within the API budget.",
        ),
        "adopt": Entry(
            f"{CHANGES}:adopt",
            "Attach a generation to a job in review (or still unknown) as its attempt.",
        ),
        "resubmit": Entry(
            f"{CHANGES}:resubmit",
            "Submit a job in review again: a new paid generation, on your word.",
        ),
        "prune": Entry(
            f"{CHANGES}:prune",
            "Retention: delete the audio objects of old jobs, and record on each job that it went.",
        ),
    }


jobs_app = typer.Typer(cls=JobsGroup, no_args_is_help=True)


@jobs_app.callback()
def jobs() -> None:
    """Audio jobs: submit, list, show, resume, retry, adopt, resubmit, prune."""
