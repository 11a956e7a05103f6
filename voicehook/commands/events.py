"""`voicehook events`: a group whose commands are imported only when they run.

The reads (`event_reads`: list, show) need the database's stack only; the others
(`event_changes`: export, reprocess, prune) the exporters and the broker. So `voicehook
events --help` imports neither, and `events list` nothing of what a change needs (issue 13's
start-up time; `python -m bench startup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import typer

from voicehook.lazy_group import Entry, LazyGroup

READS = "voicehook.commands.event_reads"
CHANGES = "voicehook.commands.event_changes"


class EventsGroup(LazyGroup):
    entries: ClassVar[Mapping[str, Entry]] = {
        "list": Entry(f"{READS}:list_command", "List events, newest first."),
        "show": Entry(
            f"{READS}:show_command",
            "One event with its deliveries (time, remote address, duplicate flag, body size).",
        ),
        "export": Entry(
            f"{CHANGES}:export_command",
            "Write stored deliveries exactly as received, to replay with `voicehook replay`.",
        ),
        "reprocess": Entry(
            f"{CHANGES}:reprocess_command",
            "Put the selected events back to `queued` and enqueue them for the workers.",
        ),
        "prune": Entry(
            f"{CHANGES}:prune_command",
            "Drop old delivery bodies (set to NULL), keeping rows, headers, sizes and events "
            "(`--headers`: headers go too).",
        ),
    }


app = typer.Typer(cls=EventsGroup, no_args_is_help=True)


@app.callback()
def events() -> None:
    """Stored webhook events: list, show, export, reprocess, prune."""
