"""`voicehook jobs` and `voicehook customers`: the internal API's twins on the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from config.database import make_engine
from config.errors import BrokerUnavailable, ConfigurationError
from config.logging import configure_logging
from config.settings import Settings
from receiver.job_intake import create_job
from receiver.job_requests import CustomerRequest, JobRequest
from records import customer_repo, job_repo
from records.adoption import resubmit_job
from records.errors import AmbiguousId, UnknownCustomer, UnknownId
from records.jobs import JOBS, Job, JobStatus
from records.lookup import customer_refs, resolve_id
from records.types import utcnow
from storage.build import open_store
from storage.errors import ObjectStoreError
from voicehook.dev_files import VAR
from voicehook.errors import InvalidTimeSpec
from voicehook.ops.audio_prune import prune_audio
from voicehook.ops.job_actions import JobAction, JobActionResult, Outcome, resume_jobs, retry_jobs
from voicehook.ops.timespec import parse_instant
from voicehook.request_errors import describe_request_error
from voicehook.tables import compact_table, human_time, plain_value, print_table, short_id

if TYPE_CHECKING:
    from config.broker import EnqueueIds

JOB_STATUSES = ", ".join(status.value for status in JobStatus)

# The option each field of a JobRequest comes from, to name it in an error.
SUBMIT_OPTIONS = {
    "customerRef": "--customer",
    "voiceId": "--voice",
    "script": "--script",
    "format": "--format",
    "settings.speed": "--speed",
    "settings.pitchSemitones": "--pitch",
}


def _log_to_stderr() -> None:
    # structlog's default writes to stdout, which would corrupt --json output.
    configure_logging(Settings())


jobs_app = typer.Typer(
    help="Audio jobs: submit, list, show, resume, retry, adopt, resubmit, prune.",
    no_args_is_help=True,
    callback=_log_to_stderr,
)
customers_app = typer.Typer(
    help="The business's customers.", no_args_is_help=True, callback=_log_to_stderr
)


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode() + "\n")


def _enqueuer(settings: Settings) -> EnqueueIds:
    """Enqueue submissions on the settings' broker, built only when there is something to
    enqueue; BrokerUnavailable when there is no broker to reach."""

    def enqueue(job_ids: Sequence[str]) -> None:
        if not job_ids:
            return
        # The broker (Dramatiq, redis-py) is loaded only by the commands that enqueue: reads
        # start without it (issue 13's start-up time; `python -m bench startup`).
        from config.broker import build_broker, enqueue_submissions  # noqa: PLC0415
        from voicehook.embedded_redis import running_embedded_url  # noqa: PLC0415

        chosen = settings
        if not settings.redis_url:  # next to `voicehook dev`: use its embedded Redis
            embedded = running_embedded_url(VAR / "redis")
            if embedded:
                chosen = settings.model_copy(update={"redis_url": embedded})
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


@jobs_app.command("submit")
def submit(
    *,
    customer: str = typer.Option(..., "--customer", help="The customer's external reference."),
    voice_id: str = typer.Option(..., "--voice", help="Upstream voice id."),
    script: str = typer.Option(..., help="Text to speak."),
    audio_format: str = typer.Option("mp3", "--format", help="mp3 or wav."),
    speed: float = typer.Option(1.0, help="0.5 to 2.0."),
    pitch: float = typer.Option(0.0, help="Semitones, -12 to 12."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Accept a job for a customer; a worker submits it within the API budget."""
    settings = Settings()
    try:
        request = JobRequest.model_validate(
            {
                "customerRef": customer,
                "voiceId": voice_id,
                "script": script,
                "format": audio_format,
                "settings": {"speed": speed, "pitchSemitones": pitch},
            }
        )
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
    _enqueue(settings, [job.id])
    if as_json:
        _print_json({"id": job.id, "status": job.status})
    else:
        typer.echo(f"job {job.id} accepted ({job.status})")


@jobs_app.command("list")
def list_jobs(
    status: str | None = typer.Option(None, help=f"Only jobs in this status: {JOB_STATUSES}."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List jobs, newest first."""
    if status is not None and status not in JOB_STATUSES.split(", "):
        typer.echo(f"voicehook jobs: unknown status {status!r}; one of: {JOB_STATUSES}", err=True)
        raise typer.Exit(2)
    engine = make_engine(Settings())
    rows = job_repo.list_jobs(engine, status, limit)
    if as_json:
        _print_json([_summary(job) for job in rows])
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


@jobs_app.command("show")
def show(
    job_id: str = typer.Argument(..., help="The job's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One job with its attempts and audio facts."""
    engine = make_engine(Settings())
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
        _print_json(document)
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


@jobs_app.command("resume")
def resume(
    job_ids: list[str] = typer.Argument(None, help="Jobs to resume (default: every blocked one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Resume jobs blocked by insufficient credits, after topping up the workspace."""
    settings = Settings()
    result = resume_jobs(make_engine(settings), job_ids or [], _enqueuer(settings))
    _report(result, as_json)


@jobs_app.command("retry")
def retry(
    job_ids: list[str] = typer.Argument(None, help="Failed jobs to retry."),
    every_failed: bool = typer.Option(
        False, "--all", help="Retry every failed job (each a new paid generation)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Give failed jobs one new attempt (a new paid generation), within the API budget."""
    if bool(job_ids) == every_failed:
        typer.echo("voicehook jobs retry: name the jobs, or --all for every failed one", err=True)
        raise typer.Exit(2)
    settings = Settings()
    result = retry_jobs(make_engine(settings), job_ids or [], _enqueuer(settings))
    _report(result, as_json)


def _report(result: JobActionResult, as_json: bool) -> None:
    """Print what a job action did; exit 1 when a named job was refused or unknown."""
    if as_json:
        _print_json(result.document())
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


@jobs_app.command("adopt")
def adopt(
    job_id: str = typer.Argument(..., help="A job whose submission outcome is unknown."),
    generation_id: str = typer.Argument(..., help="The upstream generation it made."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Attach a generation to a job in review (or still unknown) as its attempt."""
    from processors.errors import AdoptionRefused  # noqa: PLC0415 - start-up time, as above
    from processors.review import adopt_for_operator  # noqa: PLC0415 - start-up time

    settings = Settings()
    try:
        note = adopt_for_operator(make_engine(settings), settings.audio_dir, job_id, generation_id)
    except AdoptionRefused as exc:
        typer.echo(f"not adopted: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _print_json({"adopted": generation_id, "jobId": job_id, "note": note})
    else:
        typer.echo(note)


@jobs_app.command("resubmit")
def resubmit(
    job_id: str = typer.Argument(..., help="A job in needs_review."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Submit a job in review again: a new paid generation, on your word."""
    settings = Settings()
    if not resubmit_job(make_engine(settings), job_id):
        typer.echo(f"job {job_id} is not in needs_review; nothing resubmitted", err=True)
        raise typer.Exit(1)
    _enqueue(settings, [job_id])
    if as_json:
        _print_json({"resubmitted": job_id})
    else:
        typer.echo(f"job {job_id} will be submitted again")


@customers_app.command("add")
def add_customer(
    external_ref: str = typer.Argument(..., help="Your reference for the customer."),
    name: str = typer.Argument(..., help="Display name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a customer (or show the existing one with this reference)."""
    request = CustomerRequest(external_ref=external_ref, name=name)
    customer, created = customer_repo.upsert_customer(
        make_engine(Settings()), request.external_ref, request.name
    )
    if as_json:
        _print_json({"id": customer.id, "externalRef": customer.external_ref, "created": created})
    else:
        typer.echo(f"customer {customer.id} ({'created' if created else 'exists'})")


@customers_app.command("list")
def list_customers(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Customers with their usage."""
    rows = customer_repo.list_customers(make_engine(Settings()))
    documents = [
        {
            "id": c.id,
            "externalRef": c.external_ref,
            "name": c.name,
            "audioSeconds": c.audio_seconds,
            "creditsSpent": c.credits_spent,
            "jobsReady": c.jobs_ready,
            "jobsFailed": c.jobs_failed,
        }
        for c in rows
    ]
    if as_json:
        _print_json(documents)
        return
    table = Table("id", "ref", "name", "audio s", "credits", "ready", "failed")
    for d in documents:
        table.add_row(
            str(d["id"]),
            str(d["externalRef"]),
            str(d["name"]),
            f"{d['audioSeconds']:.1f}",
            str(d["creditsSpent"]),
            str(d["jobsReady"]),
            str(d["jobsFailed"]),
        )
    Console().print(table)


voices_app = typer.Typer(help="Cloned voices.", no_args_is_help=True, callback=_log_to_stderr)


@voices_app.command("sync")
def sync(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Fetch GET /v1/voices (one API call) and mark finished clones ready."""
    settings = Settings()
    try:
        from processors.worker import build_context  # noqa: PLC0415 - start-up time, as above

        context = build_context(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook voices sync: {exc}", err=True)
        raise typer.Exit(2) from None
    from processors.voices_sync import sync_voices  # noqa: PLC0415 - start-up time, as above

    upstream, updated = sync_voices(context)
    if as_json:
        _print_json({"voices": upstream, "clonesMarkedReady": updated})
        return
    table = Table("id", "name", "kind", "language")
    for voice in upstream:
        table.add_row(
            str(voice.get("id")), str(voice.get("name")), str(voice.get("kind")),
            str(voice.get("language")),
        )  # fmt: skip
    Console().print(table)
    typer.echo(f"{updated} local clone(s) marked ready")


@jobs_app.command("prune")
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
    settings = Settings()
    store = open_store(settings)
    try:
        result = prune_audio(make_engine(settings), store, cutoff, dry_run=dry_run)
    except ObjectStoreError as exc:
        typer.echo(f"voicehook jobs: {exc}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _print_json(
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
