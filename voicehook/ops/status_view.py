"""What `voicehook status` shows: the signals and the alert conditions over them, as one
screen of rich renderables or as a JSON document."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from monitoring.alert_rules import Alert, Condition
from monitoring.signals import Signals


def status_document(signals: Signals, alerts: dict[Alert, Condition]) -> dict[str, Any]:
    return {
        **signals.document(),
        "alerts": {
            alert.value: {"active": c.active, "summary": c.summary} for alert, c in alerts.items()
        },
    }


def status_screen(signals: Signals, alerts: dict[Alert, Condition]) -> RenderableType:
    """Events, jobs, queues, budget and alerts, each a small table."""
    counts = signals.counts
    events = _counts_table("events", counts.events_by_status)
    jobs = _counts_table("jobs", counts.jobs_by_status)
    queues = Table(title="queues", title_justify="left", box=None, pad_edge=False)
    for column in ("queue", "waiting", "delayed", "dead"):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    for name, depth in signals.queues.items():
        dead = Text(str(depth.dead), style="bold red" if depth.dead else "")
        queues.add_row(name, str(depth.waiting), str(depth.delayed), dead)
    facts = Table(box=None, show_header=False, pad_edge=False)
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("oldest unprocessed", _age(signals.oldest_unprocessed_age_seconds))
    if signals.dead_letters:
        facts.add_row(
            "dead letters",
            f"{signals.dead_letters}: `voicehook dead-letters list`, then requeue or purge",
        )
    facts.add_row("stuck events", str(counts.stuck_events))
    facts.add_row("flagged endpoints", ", ".join(counts.flagged_endpoints) or "none")
    if signals.budget is not None:
        budget = signals.budget
        blocked = f", 429 pause {budget.blocked_seconds:.0f}s" if budget.blocked_seconds else ""
        facts.add_row(
            "API budget",
            f"{budget.used}/{budget.limit} used, {budget.available} free "
            f"({signals.workspace}){blocked}",
        )
    else:
        facts.add_row("API budget", "not read (no REDIS_URL or no VPAI_API_KEY)")
    firing = Table(title="alerts", title_justify="left", box=None, pad_edge=False)
    firing.add_column("")
    firing.add_column("alert")
    firing.add_column("now")
    for alert, condition in alerts.items():
        mark = Text("FIRING", style="bold red") if condition.active else Text("ok", style="green")
        firing.add_row(mark, alert.value, condition.summary)
    lists = Table.grid(padding=(0, 4))
    lists.add_row(events, jobs, queues)
    return Group(facts, Text(""), lists, Text(""), firing)


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("status")
    table.add_column("count", justify="right")
    for status, count in sorted(counts.items()):
        table.add_row(status, str(count))
    if not counts:
        table.add_row("(none)", "0")
    return table


def _age(seconds: float) -> str:
    if seconds <= 0:
        return "nothing waiting"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
