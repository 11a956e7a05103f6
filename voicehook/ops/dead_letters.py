"""List, requeue and purge Dramatiq's dead-lettered messages.

Requeueing goes through the code paths that already own each kind of work: a
`process_event` message is the event's reprocessing (`ops.reprocess`, so the event row says
`queued` when its message is back on the queue); `submit_job`, `clone_voice` and
`deliver_notification` are enqueued again by the functions the sweeper and the CLI use. A
dead letter is removed only after its replacement was enqueued: if Redis fails between the
two, the dead letter stays and the work runs (at worst twice, which the idempotent workers
absorb), never zero times.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine

from config.broker import EnqueueIds
from config.dead_letters import DeadLetter, DeadLetters
from config.queues import PROCESS_EVENT_ACTOR
from records.dead_letter_reads import recorded_states
from records.event_reads import EventFilter
from voicehook.errors import InvalidSelection
from voicehook.ops.reprocess import reprocess

BATCH = 200
NOT_OURS = "not a voicehook message (unknown actor or no id): purge it"
NO_ROW = "its row is gone from the database: purge it"


def document(
    letter: DeadLetter, recorded: Mapping[tuple[str, str], Any], now: datetime
) -> dict[str, Any]:
    """One dead letter as `dead-letters list --json` prints it."""
    state = recorded.get((letter.actor, letter.entity_id or ""))
    return {
        "queue": letter.queue,
        "id": letter.message_id,
        "actor": letter.actor,
        "entityId": letter.entity_id,
        "deadAt": letter.dead_at,
        "ageSeconds": round((now - letter.dead_at).total_seconds(), 3),
        "enqueuedAt": letter.enqueued_at,
        "retries": letter.retries,
        "status": None if state is None else state.status,
        "error": state.error if state is not None and state.error else letter.error,
    }


def list_dead_letters(
    engine: Engine, letters: DeadLetters, queues: Sequence[str], limit: int, now: datetime
) -> list[dict[str, Any]]:
    """Up to `limit` dead letters per queue, oldest first, each with what the database
    recorded for the row it was for."""
    found = [letter for q in queues for letter in islice(letters.oldest_first(q), limit)]
    recorded = recorded_states(
        engine, [(x.actor, x.entity_id) for x in found if x.entity_id is not None]
    )
    return [document(letter, recorded, now) for letter in found]


def resolve(
    letters: DeadLetters, queues: Sequence[str], prefixes: Sequence[str]
) -> list[DeadLetter]:
    """The one dead letter each id (or unique prefix) names; InvalidSelection otherwise."""
    chosen: list[DeadLetter] = []
    for prefix in prefixes:
        if not prefix.strip():
            raise InvalidSelection("an empty dead-letter id")
        # ZSCAN may return an entry twice: count distinct (queue, id) pairs.
        matches = {(x.queue, x.message_id): x for q in queues for x in letters.find(q, prefix)}
        if not matches:
            raise InvalidSelection(f"no dead letter {prefix} on {', '.join(queues)}")
        if len(matches) > 1:
            raise InvalidSelection(f"{prefix} names more than one dead letter; give more of it")
        chosen.extend(matches.values())
    return chosen


def every(letters: DeadLetters, queues: Sequence[str], before: datetime) -> Iterator[DeadLetter]:
    """Every dead letter that died before `before` (so what dies again meanwhile is left)."""
    for queue in queues:
        yield from letters.oldest_first(queue, before=before)


@dataclass(frozen=True)
class Enqueuers:
    """How each actor's work is enqueued again (the broker functions of the sweeper/CLI)."""

    by_actor: Mapping[str, EnqueueIds]


@dataclass
class RequeueResult:
    requeued: list[str] = field(default_factory=list)  # dead-letter ids, replaced and removed
    skipped: dict[str, str] = field(default_factory=dict)  # dead-letter id -> why


def requeue(
    engine: Engine, letters: DeadLetters, enqueuers: Enqueuers, chosen: Iterable[DeadLetter]
) -> RequeueResult:
    """Enqueue the work of each chosen dead letter again, then remove it; in batches.

    BrokerUnavailable (an enqueue refused) or RedisError (a removal refused) propagates:
    the batches before it stay done; in the failing batch, a dead letter whose replacement
    was enqueued may stay too (a duplicate, never a loss).
    """
    result = RequeueResult()
    iterator = iter(chosen)
    while batch := list(islice(iterator, BATCH)):
        _requeue_batch(engine, letters, enqueuers, batch, result)
    return result


def _requeue_batch(
    engine: Engine,
    letters: DeadLetters,
    enqueuers: Enqueuers,
    batch: Sequence[DeadLetter],
    result: RequeueResult,
) -> None:
    groups: dict[str, list[DeadLetter]] = {}
    for letter in batch:
        if letter.entity_id is None or letter.actor not in enqueuers.by_actor:
            result.skipped[letter.message_id] = NOT_OURS
        else:
            groups.setdefault(letter.actor, []).append(letter)
    for actor, group in groups.items():
        ids = list(dict.fromkeys(x.entity_id for x in group if x.entity_id is not None))
        enqueue = enqueuers.by_actor[actor]
        if actor == PROCESS_EVENT_ACTOR:
            outcome = reprocess(engine, EventFilter(ids=tuple(ids)), enqueue)
            done, why = set(outcome.requeued), dict(outcome.skipped)
        else:
            existing = {i for (_actor, i) in recorded_states(engine, [(actor, i) for i in ids])}
            done, why = existing, {}
            enqueue([i for i in ids if i in existing])
        replaced = [x for x in group if x.entity_id in done]
        for letter in group:
            if letter.entity_id not in done:
                result.skipped[letter.message_id] = why.get(letter.entity_id or "", NO_ROW)
        for queue in {x.queue for x in replaced}:
            letters.remove(queue, [x.message_id for x in replaced if x.queue == queue])
        result.requeued.extend(x.message_id for x in replaced)


def purge(
    letters: DeadLetters, chosen: Iterable[DeadLetter], *, dry_run: bool = False
) -> dict[str, int]:
    """Remove the chosen dead letters (or, dry, count them); how many per queue."""
    counts: dict[str, int] = {}
    iterator = iter(chosen)
    while batch := list(islice(iterator, BATCH)):
        for queue in {x.queue for x in batch}:
            ids = [x.message_id for x in batch if x.queue == queue]
            removed = len(ids) if dry_run else letters.remove(queue, ids)
            counts[queue] = counts.get(queue, 0) + removed
    return counts
