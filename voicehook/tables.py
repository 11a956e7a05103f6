"""How the CLI's tables read at an ordinary width: short ids, human times, one style.

Every table is built to fit 100 columns: ids cut to 8 characters (`show` takes the prefix),
times as "5m ago", and one column (the error) that wraps instead of squeezing the others.
rich is imported when a table is made: a list that finds nothing, or prints JSON, starts
without it (issue 13's start-up time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

SHORT_ID = 8
TABLE_WIDTH = 100


def short_id(value: str | None) -> str:
    return (value or "")[:SHORT_ID]


def human_time(moment: datetime | str | None, now: datetime) -> str:
    """`12s ago`, `5m ago`, `3h ago`, then the date: what a reader of a list wants."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return f"{moment:%Y-%m-%d %H:%M}"
    for unit, size in (("s", 1), ("m", 60), ("h", 3600)):
        if seconds < size * (60 if unit != "h" else 48):
            return f"{int(seconds // size)}{unit} ago"
    return f"{moment:%Y-%m-%d}"


def compact_table(columns: Sequence[str], wrap: str | None = None) -> Table:
    """A borderless table; `wrap` names the one column that folds (the others never do)."""
    from rich import box  # noqa: PLC0415 - start-up time (see above)
    from rich.table import Table  # noqa: PLC0415

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in columns:
        if name == wrap:
            table.add_column(name, overflow="fold", ratio=1, min_width=12)
        else:
            table.add_column(name, no_wrap=True)
    return table


def print_table(table: Table) -> None:
    from rich.console import Console  # noqa: PLC0415 - start-up time (see above)

    console = Console()
    Console(width=min(console.width, TABLE_WIDTH) if console.is_terminal else TABLE_WIDTH).print(
        table
    )


def plain_value(value: Any) -> str:
    """A value for a `show` line: no Python reprs (`{'speed': 1.0}`, `None`)."""
    if value is None:
        return "-"
    if isinstance(value, Mapping):
        return " ".join(f"{key}={plain_value(item)}" for key, item in value.items()) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
