"""`voicehook jobs list` and `jobs show`: the reads, with the database's stack only.

Loaded only when one of them runs (`voicehook.commands.jobs`); they log nothing, so they set
up no logging either (issue 13's start-up time; `python -m bench startup`).
"""

from __future__ import annotations

from typing import Any

import typer

from config.database import make_engine
from config.database_settings import read_database_settings
from records import job_repo
from records.errors import AmbiguousId, UnknownId
from records.jobs import JOBS, Job, JobStatus
from records.lookup import customer_refs, resolve_id
from records.types import utcnow
from voicehook.ops.output import print_json
from voicehook.tables import compact_table, human_time, plain_value, print_table, short_id

# The module's commands; `voicehook.commands.jobs` loads them one by one, as they run.
app = typer.Typer()

JOB_STATUSES = ", ".join(status.value for status in JobStatus)


@app.command("list")
def list_jobs(
    status: str | None = typer.Option(None, help=f"Only jobs in this status: {JOB_STATUSES}."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List jobs, newest first."""
    if status is not None and status not in JOB_STATUSES.split(", "):
        typer.echo(f"voicehook jobs: unknown status {status!r}; one of: {JOB_STATUSES}", err=True)
        raise typer.Exit(2)
    engine = make_engine(read_database_settings())
    rows = job_repo.list_jobs(engine, status, limit)
    if as_json:
        print_json([_summary(job) for job in rows])
        return
    if not rows:
        typer.echo("no jobs match" if status else "no jobs yet")
        return
    refs = customer_refs(engine, (job.customer_id for job in rows))
    now = utcnow()
    table = compact_table(
        ("id", "customer", "status", "tries", "format", "audio s", "created", "last error"),
        wrap="last error",
    )
    for job in rows:
        table.add_row(
            short_id(job.id),
            refs.get(job.customer_id or "", "(untracked)"),
            job.status,
            f"{job.attempts_made}/{job.max_attempts}",
            job.format,
            f"{job.audio_duration_sec:.1f}" if job.audio_duration_sec else "",
            human_time(job.created_at, now),
            job.last_error or "",
        )
    print_table(table)


def _summary(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "customerId": job.customer_id,
        "status": job.status,
        "attemptsMade": job.attempts_made,
        "format": job.format,
        "audioDurationSec": job.audio_duration_sec,
        "lastError": job.last_error,
        "createdAt": job.created_at,
    }


@app.command("show")
def show(
    job_id: str = typer.Argument(..., help="The job's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One job with its attempts and audio facts."""
    engine = make_engine(read_database_settings())
    try:
        document = job_repo.job_document(engine, resolve_id(engine, JOBS.c.id, job_id))
    except (UnknownId, AmbiguousId) as exc:
        message = f"no job {job_id}" if isinstance(exc, UnknownId) else str(exc)
        typer.echo(f"voicehook jobs: {message}", err=True)
        raise typer.Exit(1) from None
    if document is None:
        typer.echo(f"voicehook jobs: no job {job_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        print_json(document)
        return
    for key, value in document.items():
        if key != "attempts":
            typer.echo(f"{key:>14}: {plain_value(value)}")
    for attempt in document["attempts"]:
        error = f" {attempt['error']}" if attempt["error"] else ""
        typer.echo(
            f"  attempt {attempt['number']}: {attempt['status']} "
            f"generation={plain_value(attempt['generationId'])}{error}"
        )
