"""`voicehook jobs submit, resume, adopt, resubmit, prune`: the commands that change jobs.

Loaded only when one of them runs (`voicehook.commands.jobs`), so what they need — the
receiver's request models, the broker, the object store, the processors — costs the reads
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import typer
from pydantic import ValidationError
from sqlalchemy import Engine

from config.broker import EnqueueIds, build_broker, enqueue_submissions
from config.database import make_engine
from config.errors import BrokerUnavailable, ConfigurationError
from config.settings import Settings
from processors.errors import AdoptionRefused
from processors.review import adopt_for_operator
from receiver.job_intake import create_job
from receiver.job_requests import JobRequest
from records.adoption import resubmit_job
from records.errors import AmbiguousId, DuplicateExternalRef, UnknownCustomer
from records.jobs import JOBS
from records.lookup import resolve_ids
from records.types import utcnow
from storage.build import open_store
from storage.errors import ObjectStoreError
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.errors import InvalidTimeSpec
from voicehook.ops.audio_prune import prune_audio
from voicehook.ops.job_actions import JobAction, JobActionResult, Outcome, resume_jobs, retry_jobs
from voicehook.ops.output import print_json
from voicehook.ops.timespec import parse_instant
from voicehook.request_errors import describe_request_error

# The module's commands; `voicehook.commands.jobs` loads them one by one, as they run.
app = typer.Typer()

# The option each field of a JobRequest comes from, to name it in an error.
SUBMIT_OPTIONS = {
    "customerRef": "--customer",
    "voiceId": "--voice",
    "script": "--script",
    "format": "--format",
    "settings.speed": "--speed",
    "settings.pitchSemitones": "--pitch",
    "externalRef": "--external-ref",
    "metadata": "--metadata",
}


def _enqueuer(settings: Settings) -> EnqueueIds:
    """Enqueue submissions on the settings' broker (next to `voicehook dev`, its embedded
    Redis); BrokerUnavailable when there is no broker to reach."""
    chosen = settings.model_copy(update={"redis_url": redis_url(settings)})

    def enqueue(job_ids: Sequence[str]) -> None:
        if not job_ids:
            return
        try:
            broker = build_broker(chosen)
        except ConfigurationError as exc:
            raise BrokerUnavailable(str(exc)) from exc
        enqueue_submissions(broker, job_ids)

    return enqueue


def _enqueue(settings: Settings, job_ids: list[str]) -> None:
    try:
        _enqueuer(settings)(job_ids)
    except BrokerUnavailable as exc:
        typer.echo(f"stored, but not enqueued ({exc}); the sweeper will submit it", err=True)


@app.command("submit")
def submit(
    *,
    customer: str = typer.Option(..., "--customer", help="The customer's external reference."),
    voice_id: str = typer.Option(..., "--voice", help="Upstream voice id."),
    script: str = typer.Option(..., help="Text to speak."),
    audio_format: str = typer.Option("mp3", "--format", help="mp3 or wav."),
    speed: float = typer.Option(1.0, help="0.5 to 2.0."),
    pitch: float = typer.Option(0.0, help="Semitones, -12 to 12."),
    external_ref: str | None = typer.Option(
        None, "--external-ref", help="Your own reference; unique per customer."
    ),
    metadata: str | None = typer.Option(
        None, "--metadata", help="A small JSON object, echoed in the job and its notifications."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Accept a job for a customer; a worker submits it within the API budget."""
    settings = load_settings()
    body: dict[str, Any] = {
        "customerRef": customer,
        "voiceId": voice_id,
        "script": script,
        "format": audio_format,
        "settings": {"speed": speed, "pitchSemitones": pitch},
    }
    if external_ref is not None:
        body["externalRef"] = external_ref
    if metadata is not None:
        try:
            body["metadata"] = orjson.loads(metadata)
        except orjson.JSONDecodeError as exc:
            typer.echo(f"voicehook jobs submit: --metadata is not valid JSON: {exc}", err=True)
            raise typer.Exit(2) from None
    try:
        request = JobRequest.model_validate(body)
    except ValidationError as exc:
        typer.echo(
            f"voicehook jobs submit: {describe_request_error(exc, SUBMIT_OPTIONS)}", err=True
        )
        raise typer.Exit(2) from None
    try:
        job = create_job(make_engine(settings), request, settings.job_max_attempts)
    except UnknownCustomer:
        typer.echo(f"no customer {customer!r}; add it with `voicehook customers add`", err=True)
        raise typer.Exit(1) from None
    except DuplicateExternalRef as exc:
        typer.echo(f"voicehook jobs submit: {exc}", err=True)
        raise typer.Exit(1) from None
    _enqueue(settings, [job.id])
    if as_json:
        print_json({"id": job.id, "status": job.status, "externalRef": job.external_ref})
    else:
        typer.echo(f"job {job.id} accepted ({job.status})")


@app.command("resume")
def resume(
    job_ids: list[str] = typer.Argument(None, help="Jobs to resume (default: every blocked one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Resume jobs blocked by insufficient credits, after topping up the workspace."""
    settings = load_settings()
    result = resume_jobs(make_engine(settings), job_ids or [], _enqueuer(settings))
    _report(result, as_json)


@app.command("retry")
def retry(
    job_ids: list[str] = typer.Argument(None, help="Failed jobs (ids or unique prefixes)."),
    every_failed: bool = typer.Option(
        False, "--all", help="Retry every failed job (each a new paid generation)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Give failed jobs one new attempt (a new paid generation), within the API budget."""
    if bool(job_ids) == every_failed:
        typer.echo("voicehook jobs retry: name the jobs, or --all for every failed one", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    engine = make_engine(settings)
    result = retry_jobs(engine, _full_ids(engine, job_ids or []), _enqueuer(settings))
    _report(result, as_json)


def _full_ids(engine: Engine, given: Sequence[str]) -> list[str]:
    """Each id or unique prefix as the job's full id, as `jobs show` takes them; an unknown
    one stays as given (the action reports it), an ambiguous one exits 1 naming the jobs."""
    try:
        return resolve_ids(engine, JOBS.c.id, given)
    except AmbiguousId as exc:
        typer.echo(f"voicehook jobs: {exc}", err=True)
        raise typer.Exit(1) from None


def _report(result: JobActionResult, as_json: bool) -> None:
    """Print what a job action did; exit 1 when a named job was refused or unknown."""
    if as_json:
        print_json(result.document())
    else:
        verb = {JobAction.RESUME: "resumed", JobAction.RETRY: "retried"}[result.action]
        typer.echo(f"{verb} {len(result.done)} job(s)")
        for outcome in result.outcomes:
            if outcome.reason:
                typer.echo(f"  {outcome.job_id}: not {verb}: {outcome.reason}", err=True)
        if not result.enqueued:
            typer.echo("stored, but not enqueued; the sweeper will submit them", err=True)
    if any(o.outcome is not Outcome.DONE for o in result.outcomes):
        raise typer.Exit(1)


@app.command("adopt")
def adopt(
    job_id: str = typer.Argument(..., help="A job whose submission outcome is unknown."),
    generation_id: str = typer.Argument(..., help="The upstream generation it made."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Attach a generation to a job in review (or still unknown) as its attempt."""
    settings = load_settings()
    engine = make_engine(settings)
    try:
        store = open_store(settings)
        note = adopt_for_operator(engine, store, settings.audio_dir, job_id, generation_id)
    except (AdoptionRefused, ObjectStoreError) as exc:
        typer.echo(f"not adopted: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json({"adopted": generation_id, "jobId": job_id, "note": note})
    else:
        typer.echo(note)


@app.command("resubmit")
def resubmit(
    job_id: str = typer.Argument(..., help="A job in needs_review."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Submit a job in review again: a new paid generation, on your word."""
    settings = load_settings()
    if not resubmit_job(make_engine(settings), job_id):
        typer.echo(f"job {job_id} is not in needs_review; nothing resubmitted", err=True)
        raise typer.Exit(1)
    _enqueue(settings, [job_id])
    if as_json:
        print_json({"resubmitted": job_id})
    else:
        typer.echo(f"job {job_id} will be submitted again")


@app.command("prune")
def prune(
    older_than: str = typer.Option(
        ..., "--older-than", help="Audio of jobs ready before then: 90d, 12h, or an ISO-8601 time."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; delete nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Retention: delete the audio objects of old jobs, and record on each job that it went.

    The jobs, their facts (bytes, sha256, duration) and the customers' usage stay; their
    audio route answers 410 Gone. Audio in another store than STORAGE_URL's is left alone.
    """
    try:
        cutoff = parse_instant(older_than, utcnow())
    except InvalidTimeSpec as exc:
        typer.echo(f"voicehook jobs: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = load_settings()
    store = open_store(settings)
    try:
        result = prune_audio(make_engine(settings), store, cutoff, dry_run=dry_run)
    except ObjectStoreError as exc:
        typer.echo(f"voicehook jobs: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            {
                "dryRun": dry_run,
                "cutoff": cutoff,
                "store": store.name,
                "jobs": result.jobs,
                "bytes": result.bytes,
                "elsewhere": result.elsewhere,
            }
        )
        return
    verb = "would delete" if dry_run else "deleted"
    typer.echo(
        f"{verb} the audio of {result.jobs} jobs ({result.bytes} bytes) ready before {cutoff}"
    )
    if result.elsewhere:
        typer.echo(f"left {result.elsewhere} in another store (see `voicehook storage migrate`)")
