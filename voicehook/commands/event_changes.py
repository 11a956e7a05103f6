"""`voicehook events export, reprocess, prune`: what writes files, enqueues or deletes.

Loaded only when one of them runs (`voicehook.commands.events`), so the broker's stack and
the exporters cost the reads nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import typer

from config.broker import build_broker, enqueue_events
from config.database import make_engine
from config.errors import BrokerUnavailable, ConfigurationError
from config.settings import Settings
from records.delivery_bodies import prune_bodies
from records.types import utcnow
from voicehook.commands.event_selection import JSON_HELP, SINCE_HELP, event_filter, fail, full_ids
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.errors import InvalidTimeSpec
from voicehook.ops.capture import write_directory, write_jsonl
from voicehook.ops.export import DeliveryExport
from voicehook.ops.output import json_text
from voicehook.ops.reprocess import reprocess as requeue_events
from voicehook.ops.timespec import parse_instant

# The module's commands; `voicehook.commands.events` loads them one by one, as they run.
app = typer.Typer()


@app.command("export")
def export_command(
    out: Path = typer.Argument(..., help="Directory to write into (or the file, with --jsonl)."),
    *,
    since: str | None = typer.Option(None, help="Deliveries received since. " + SINCE_HELP),
    event_type: str | None = typer.Option(None, "--type", help="Only this event type."),
    status: str | None = typer.Option(None, help="Only deliveries of events in this status."),
    jsonl: bool = typer.Option(False, "--jsonl", help="Write one JSONL file instead."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Write stored deliveries exactly as received, to replay with `voicehook replay`.

    One JSON document per delivery (file name: received time and delivery id), holding the
    headers and the body byte for byte (UTF-8 text, or base64 when it is not UTF-8).
    Deliveries whose body was pruned are skipped and counted: there is nothing to replay.
    """
    selection = event_filter(since=since, event_type=event_type, status=status)
    if jsonl and out.is_dir():
        raise fail(f"{out} is a directory; --jsonl writes a file", 2)
    if not jsonl and out.exists() and not out.is_dir():
        raise fail(f"{out} is a file; without --jsonl, OUT is a directory", 2)
    export = DeliveryExport(make_engine(load_settings()), selection)
    written = write_jsonl(out, export) if jsonl else write_directory(out, export)
    if as_json:
        typer.echo(json_text({"written": written, "skippedPruned": export.pruned, "out": str(out)}))
        return
    typer.echo(f"exported {written} deliveries to {out}")
    if export.pruned:
        typer.echo(f"skipped {export.pruned} deliveries whose body was pruned")


@app.command("reprocess")
def reprocess_command(
    *,
    event_id: list[str] = typer.Option([], "--id", help="This event (repeatable)."),
    failed: bool = typer.Option(False, "--failed", help="Every failed event."),
    since: str | None = typer.Option(None, help=SINCE_HELP),
    event_type: str | None = typer.Option(None, "--type", help="Only this event type."),
    status: str | None = typer.Option(None, help="Only events in this status."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be requeued, only."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Put the selected events back to `queued` and enqueue them for the workers.

    Use it once the cause of a failure is fixed (e.g. `--failed`). Workers are idempotent:
    reprocessing an event whose work is already done changes nothing downstream (no second
    download, no second retry). Events a worker holds, and events whose bodies were pruned,
    are skipped. A selector is required: there is no "everything" by accident.
    """
    ids = full_ids(make_engine(load_settings()), event_id) if event_id else []
    selection = event_filter(ids, failed, since, event_type, status)
    if selection.empty:
        raise fail("say which events: --id, --failed, --since, --type or --status", 2)
    settings = load_settings()
    try:
        enqueue = _nothing if dry_run else event_enqueuer(settings)
        result = requeue_events(make_engine(settings), selection, enqueue, dry_run=dry_run)
    except (BrokerUnavailable, ConfigurationError) as exc:
        raise fail(f"stopped, the rest left as it was: {exc}") from None
    document: dict[str, Any] = {
        "dryRun": dry_run,
        "selected": result.selected,
        "requeued": result.requeued,
        "skipped": result.skipped,
    }
    if as_json:
        typer.echo(json_text(document))
        return
    verb = "would requeue" if dry_run else "requeued"
    typer.echo(f"{verb} {len(result.requeued)} of {result.selected} selected event(s)")
    for skipped_id, reason in result.skipped.items():
        typer.echo(f"  skipped {skipped_id}: {reason}")


def event_enqueuer(settings: Settings) -> Callable[[Sequence[str]], None]:
    """Enqueue `process_event` messages on the broker (ConfigurationError without Redis)."""
    url = redis_url(settings)
    if not url:
        raise ConfigurationError("REDIS_URL is not set, so nothing can be enqueued")
    return partial(enqueue_events, build_broker(settings.model_copy(update={"redis_url": url})))


def _nothing(_event_ids: Sequence[str]) -> None:
    return None


@app.command("prune")
def prune_command(
    older_than: str = typer.Option(
        ..., "--older-than", help="Bodies received before then: 30d, 12h, or an ISO-8601 time."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; change nothing."),
    headers: bool = typer.Option(
        False, "--headers", help="Also empty those deliveries' stored headers."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Drop old delivery bodies (set to NULL), keeping rows, headers, sizes and events
    (`--headers`: headers go too).

    Only bodies of processed or ignored events go; those of events still waiting or failed
    stay, as a worker needs them. Runs in small batches, so it never holds a long lock.
    SQLite's file does not shrink by itself (VACUUM does that); PostgreSQL reuses the space.
    """
    try:
        cutoff = parse_instant(older_than, utcnow())
    except InvalidTimeSpec as exc:
        raise fail(str(exc), 2) from None
    result = prune_bodies(make_engine(load_settings()), cutoff, dry_run=dry_run, headers=headers)
    if as_json:
        typer.echo(
            json_text(
                {
                    "dryRun": dry_run,
                    "cutoff": cutoff,
                    "bodies": result.bodies,
                    "bytes": result.bytes,
                    "keptUnsettled": result.kept,
                    "headers": result.headers,
                }
            )
        )
        return
    verb = "would drop" if dry_run else "dropped"
    typer.echo(f"{verb} {result.bodies} bodies ({result.bytes} bytes) received before {cutoff}")
    if headers:
        typer.echo(f"{verb} the headers of {result.headers} deliveries")
    if result.kept:
        typer.echo(
            f"kept {result.kept} old bodies: their events are waiting, in progress or failed"
        )
