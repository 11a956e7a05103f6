"""Stored deliveries as captures, streamed from the database in arrival order."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine

from records.event_reads import EventFilter, delivery_rows
from voicehook.ops.capture import Capture


class DeliveryExport:
    """Iterates the captures of matching deliveries; counts those whose body was pruned.

    A pruned delivery (body NULL) is skipped rather than exported without a body: an export
    exists to be replayed, and a capture with nothing to send cannot be. Its event and
    delivery rows are still there for `events show`.
    """

    def __init__(self, engine: Engine, selection: EventFilter) -> None:
        self._engine = engine
        self._selection = selection
        self.pruned = 0

    def __iter__(self) -> Iterator[Capture]:
        for row in delivery_rows(self._engine, self._selection):
            if row["body"] is None:
                self.pruned += 1
                continue
            yield Capture(
                body=bytes(row["body"]),
                source=f"delivery {row['id']}",
                headers=dict(row["headers"] or {}),
                delivery_id=row["id"],
                event_id=row["event_id"],
                event_type=row["type"],
                received_at=row["received_at"],
                remote_addr=row["remote_addr"],
                duplicate=bool(row["duplicate"]),
            )
