"""What the webhook endpoint needs of whatever makes its deliveries durable.

Two implementations: `receiver.group_commit.GroupCommitter`, which sends batches to writer
processes (production), and `receiver.inline_commit.InlineCommitter`, which commits on a
thread of this process (tests and tools that run the app in process).
"""

from __future__ import annotations

from typing import Protocol

from records.event_store import Incoming, Outcome


class Committer(Protocol):
    """Commits deliveries, then enqueues the events they created."""

    async def submit(self, incoming: Incoming) -> Outcome:
        """Wait until `incoming` is committed; raises StorageUnavailable if it could not be."""
        ...

    async def start(self) -> None:
        """Get ready to commit (StorageUnavailable if it cannot)."""
        ...

    async def stop(self) -> None:
        """Answer everything submitted, enqueue what it created, then stop."""
        ...

    @property
    def ready(self) -> bool:
        """True while deliveries can be committed."""
        ...
