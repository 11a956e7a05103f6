"""`voicehook events`: list, show, export, reprocess and prune the stored webhook events."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from config.database import make_engine
from config.errors import BrokerUnavailable, ConfigurationError
from config.settings import Settings
from records.delivery_bodies import prune_bodies
from records.errors import AmbiguousId, UnknownId
from records.event_reads import EventFilter, first_body, list_events, show_event
from records.events import EVENTS
from records.lookup import resolve_id
from records.types import utcnow
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.errors import InvalidSelection, InvalidTimeSpec
from voicehook.ops.capture import write_directory, write_jsonl
from voicehook.ops.export import DeliveryExport
from voicehook.ops.output import json_text
from voicehook.ops.selection import build_filter
from voicehook.ops.timespec import parse_instant
from voicehook.tables import compact_table, human_time, print_table, short_id

app = typer.Typer(
    help="Stored webhook events: list, show, export, reprocess, prune.", no_args_is_help=True
)

SINCE_HELP = "Only since then: a duration ago (30m, 2h, 7d) or an ISO-8601 time."
JSON_HELP = "Print JSON."


def _filter(
    ids: Sequence[str] = (),
    failed: bool = False,
    since: str | None = None,
    event_type: str | None = None,
    status: str | None = None,
) -> EventFilter:
    try:
        return build_filter(
            now=utcnow(), ids=ids, failed=failed, since=since, event_type=event_type, status=status
        )
    except (InvalidSelection, InvalidTimeSpec) as exc:
        raise _fail(str(exc), 2) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"voicehook events: {message}", err=True)
    return typer.Exit(code)


@app.command("list")
def list_command(
    *,
    event_id: list[str] = typer.Option([], "--id", help="Only this event (repeatable)."),
    failed: bool = typer.Option(False, "--failed", help="Only failed events."),
    since: str | None = typer.Option(None, help=SINCE_HELP),
    event_type: str | None = typer.Option(None, "--type", help="Only this event type."),
    status: str | None = typer.Option(None, help="Only events in this status."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List events, newest first."""
    engine = make_engine(Settings())  # a read: logs nothing, so no logging set-up
    selection = _filter(_full_ids(engine, event_id), failed, since, event_type, status)
    rows = list_events(engine, selection, limit)
    if as_json:
        typer.echo(json_text(rows))
        return
    if not rows:
        typer.echo("no events match" if not selection.empty else "no events yet")
        return
    now = utcnow()
    table = compact_table(
        ("id", "type", "resource", "status", "tries", "deliv.", "received", "error"),
        wrap="error",
    )
    for row in rows:
        table.add_row(
            short_id(row["id"]),
            row["type"],
            short_id(row["resourceId"]),
            row["status"],
            str(row["attempts"]),
            str(row["deliveries"]),
            human_time(row["receivedAt"], now),
            row["lastError"] or "",
        )
    print_table(table)


def _full_ids(engine: Engine, given: Sequence[str]) -> list[str]:
    """Each id as typed, or the one event id it is a prefix of (an unknown one stays)."""
    found = []
    for event_id in given:
        try:
            found.append(resolve_id(engine, EVENTS.c.id, event_id))
        except UnknownId:
            found.append(event_id)
        except AmbiguousId as exc:
            raise _fail(str(exc), 2) from None
    return found


@app.command("show")
def show_command(
    event_id: str = typer.Argument(..., help="The event's id."),
    body: bool = typer.Option(False, "--body", help="Print the first stored body, as received."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One event with its deliveries (time, remote address, duplicate flag, body size)."""
    engine = make_engine(Settings())  # a read, as above
    [event_id] = _full_ids(engine, [event_id])
    if body:
        raw = first_body(engine, event_id)
        if raw is None:
            exists = show_event(engine, event_id) is not None
            raise _fail(
                f"event {event_id}: its bodies were pruned" if exists else f"no event {event_id}"
            )
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    document = show_event(engine, event_id)
    if document is None:
        raise _fail(f"no event {event_id}")
    if as_json:
        typer.echo(json_text(document))
        return
    for key, value in document.items():
        if key != "deliveries" and value is not None:
            typer.echo(f"{key:>14}: {value}")
    table = Table("delivery", "received", "remote address", "duplicate", "bytes", "body")
    for d in document["deliveries"]:
        table.add_row(
            str(d["id"]),
            f"{d['receivedAt']:%Y-%m-%d %H:%M:%S.%f}",
            d["remoteAddr"] or "",
            "yes" if d["duplicate"] else "no",
            str(d["bodySize"]),
            "stored" if d["bodyStored"] else "pruned",
        )
    Console().print(table)


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
    selection = _filter(since=since, event_type=event_type, status=status)
    if jsonl and out.is_dir():
        raise _fail(f"{out} is a directory; --jsonl writes a file", 2)
    if not jsonl and out.exists() and not out.is_dir():
        raise _fail(f"{out} is a file; without --jsonl, OUT is a directory", 2)
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
    # The broker's stack (Dramatiq) is loaded by this command only: reads start without it.
    from voicehook.ops.reprocess import reprocess as requeue_events  # noqa: PLC0415

    ids = _full_ids(make_engine(load_settings()), event_id) if event_id else []
    selection = _filter(ids, failed, since, event_type, status)
    if selection.empty:
        raise _fail("say which events: --id, --failed, --since, --type or --status", 2)
    settings = load_settings()
    try:
        enqueue = _nothing if dry_run else event_enqueuer(settings)
        result = requeue_events(make_engine(settings), selection, enqueue, dry_run=dry_run)
    except (BrokerUnavailable, ConfigurationError) as exc:
        raise _fail(f"stopped, the rest left as it was: {exc}") from None
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
    # The broker (Dramatiq, redis-py) is loaded only to enqueue: the reads start without it.
    from config.broker import build_broker, enqueue_events  # noqa: PLC0415 - start-up time

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
        raise _fail(str(exc), 2) from None
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
