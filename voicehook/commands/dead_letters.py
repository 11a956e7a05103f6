"""`voicehook dead-letters`: list, requeue and purge the messages Dramatiq dead-lettered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

import redis
import typer

from config.broker import (
    BatchingRedisBroker,
    build_broker,
    enqueue_clone,
    enqueue_events,
    enqueue_notifications,
    enqueue_submissions,
)
from config.database import make_engine
from config.dead_letters import QUEUES, DeadLetter, DeadLetters
from config.errors import BrokerUnavailable, ConfigurationError
from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from config.redis_connection import redis_client
from config.settings import Settings
from records.types import utcnow
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.errors import InvalidSelection, InvalidTimeSpec
from voicehook.ops import dead_letters as ops
from voicehook.ops.output import json_text
from voicehook.ops.timespec import parse_instant
from voicehook.tables import compact_table, human_time, print_table, short_id

app = typer.Typer(help="Dead-lettered broker messages: list, requeue, purge.", no_args_is_help=True)

QUEUE_HELP = f"Only this queue: one of {', '.join(QUEUES)} (default: all)."
IDS_HELP = "Dead-letter ids as `list` shows them (a unique prefix is enough)."


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"voicehook dead-letters: {message}", err=True)
    return typer.Exit(code)


def _queues(queue: str | None) -> tuple[str, ...]:
    if queue is None:
        return QUEUES
    if queue not in QUEUES:
        raise _fail(f"no queue {queue!r}: one of {', '.join(QUEUES)}", 2)
    return (queue,)


def _client(settings: Settings) -> tuple[str, redis.Redis]:
    url = redis_url(settings)
    if not url:
        raise _fail("REDIS_URL is not set: there are no dead letters to read", 2)
    return url, redis_client(url)


@app.command("list")
def list_command(
    *,
    queue: str | None = typer.Option(None, "--queue", help=QUEUE_HELP),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many per queue."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each dead letter, oldest first: actor, the id it carries, age and the recorded error."""
    settings = Settings()  # a read: logs nothing
    queues = _queues(queue)
    _, client = _client(settings)
    now = utcnow()
    try:
        rows = ops.list_dead_letters(make_engine(settings), DeadLetters(client), queues, limit, now)
    except redis.RedisError as exc:
        raise _fail(f"Redis does not answer: {exc}") from None
    if as_json:
        typer.echo(json_text(rows))
        return
    if not rows:
        typer.echo("no dead letters")
        return
    table = compact_table(("id", "queue", "actor", "for", "status", "died", "error"), wrap="error")
    for row in rows:
        table.add_row(
            short_id(row["id"]),
            row["queue"],
            row["actor"],
            short_id(row["entityId"]),
            row["status"] or "",
            human_time(row["deadAt"], now),
            row["error"] or "",
        )
    print_table(table)


def _chosen(
    letters: DeadLetters, queues: Sequence[str], ids: Sequence[str], everything: bool
) -> Iterable[DeadLetter]:
    if everything == bool(ids):
        raise _fail("say which: --all, or dead-letter ids (not both)", 2)
    if everything:
        return ops.every(letters, queues, before=utcnow())
    try:
        return ops.resolve(letters, queues, ids)
    except InvalidSelection as exc:
        raise _fail(str(exc), 2) from None


@app.command("requeue")
def requeue_command(
    ids: list[str] = typer.Argument(None, help=IDS_HELP, show_default=False),
    *,
    queue: str | None = typer.Option(None, "--queue", help=QUEUE_HELP),
    everything: bool = typer.Option(False, "--all", help="Every dead letter (of --queue)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Enqueue each dead letter's work again, then remove it from the dead-letter set.

    An event goes back to `queued` as `events reprocess` does; a job, voice or notification
    is enqueued as the sweeper would. Dead letters whose row is gone, or whose event a
    worker holds, stay (and are listed as skipped). Fix the cause first.
    """
    settings = load_settings()
    queues = _queues(queue)
    url, client = _client(settings)
    letters = DeadLetters(client)
    try:
        chosen = _chosen(letters, queues, ids or [], everything)
        broker = build_broker(settings.model_copy(update={"redis_url": url}))
        by_actor = {
            PROCESS_EVENT_ACTOR: partial(enqueue_events, broker),
            SUBMIT_JOB_ACTOR: partial(enqueue_submissions, broker),
            CLONE_VOICE_ACTOR: partial(_enqueue_clones, broker),
            DELIVER_NOTIFICATION_ACTOR: partial(enqueue_notifications, broker),
        }
        result = ops.requeue(make_engine(settings), letters, ops.Enqueuers(by_actor), chosen)
    except (BrokerUnavailable, ConfigurationError, redis.RedisError) as exc:
        raise _fail(f"stopped; what was not requeued stays dead-lettered: {exc}") from None
    if as_json:
        typer.echo(json_text({"requeued": result.requeued, "skipped": result.skipped}))
        return
    typer.echo(f"requeued {len(result.requeued)} dead letter(s)")
    for message_id, reason in result.skipped.items():
        typer.echo(f"  skipped {message_id}: {reason}")


def _enqueue_clones(broker: BatchingRedisBroker, voice_ids: Sequence[str]) -> None:
    """`enqueue_clone` takes one voice at a time."""
    for voice_id in voice_ids:
        enqueue_clone(broker, voice_id)


@app.command("purge")
def purge_command(
    ids: list[str] = typer.Argument(None, help=IDS_HELP, show_default=False),
    *,
    queue: str | None = typer.Option(None, "--queue", help=QUEUE_HELP),
    everything: bool = typer.Option(False, "--all", help="Every dead letter (of --queue)."),
    older_than: str | None = typer.Option(
        None, "--older-than", help="Only those dead before then: 2d, 12h, or an ISO-8601 time."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm --all."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; remove nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove dead letters for good (their rows in the database stay as they are)."""
    settings = load_settings()
    queues = _queues(queue)
    _, client = _client(settings)
    letters = DeadLetters(client)
    if older_than is not None:
        if ids or everything:
            raise _fail("--older-than selects by itself: no ids, no --all", 2)
        try:
            cutoff = parse_instant(older_than, utcnow())
        except InvalidTimeSpec as exc:
            raise _fail(str(exc), 2) from None
    elif everything and not (yes or dry_run):
        raise _fail("--all removes every dead letter: add --yes to confirm", 2)
    try:
        chosen = (
            ops.every(letters, queues, before=cutoff)
            if older_than is not None
            else _chosen(letters, queues, ids or [], everything)
        )
        counts = ops.purge(letters, chosen, dry_run=dry_run)
    except redis.RedisError as exc:
        raise _fail(f"Redis does not answer: {exc}") from None
    if as_json:
        typer.echo(json_text({"dryRun": dry_run, "removed": counts}))
        return
    verb = "would remove" if dry_run else "removed"
    where = ", ".join(f"{n} from {q}" for q, n in counts.items()) or "none"
    typer.echo(f"{verb} {sum(counts.values())} dead letter(s) ({where})")
