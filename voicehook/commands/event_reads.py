"""`voicehook events list` and `events show`: the reads, with the database's stack only.

Loaded only when one of them runs (`voicehook.commands.events`); they log nothing, so they
set up no logging either.
"""

from __future__ import annotations

import sys

import typer

from config.database import make_engine
from config.database_settings import read_database_settings
from records.event_reads import first_body, list_events, show_event
from records.types import utcnow
from voicehook.commands.event_selection import JSON_HELP, SINCE_HELP, event_filter, fail, full_ids
from voicehook.ops.output import json_text
from voicehook.tables import compact_table, human_time, print_table, short_id

# The module's commands; `voicehook.commands.events` loads them one by one, as they run.
app = typer.Typer()


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
    engine = make_engine(read_database_settings())  # a read: logs nothing, so no logging set-up
    selection = event_filter(full_ids(engine, event_id), failed, since, event_type, status)
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


@app.command("show")
def show_command(
    event_id: str = typer.Argument(..., help="The event's id."),
    body: bool = typer.Option(False, "--body", help="Print the first stored body, as received."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """One event with its deliveries (time, remote address, duplicate flag, body size)."""
    engine = make_engine(read_database_settings())  # a read, as above
    [event_id] = full_ids(engine, [event_id])
    if body:
        raw = first_body(engine, event_id)
        if raw is None:
            exists = show_event(engine, event_id) is not None
            raise fail(
                f"event {event_id}: its bodies were pruned" if exists else f"no event {event_id}"
            )
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return
    document = show_event(engine, event_id)
    if document is None:
        raise fail(f"no event {event_id}")
    if as_json:
        typer.echo(json_text(document))
        return
    for key, value in document.items():
        if key != "deliveries" and value is not None:
            typer.echo(f"{key:>14}: {value}")
    from rich.console import Console  # noqa: PLC0415 - start-up time: `list` may need none
    from rich.table import Table  # noqa: PLC0415

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
