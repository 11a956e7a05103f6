"""The checks of what the deployment's state says is wrong: dead-lettered messages, stuck
events and notification endpoints flagged as failing. All three come from one read of
`monitoring.signals`, the snapshot `voicehook status` and the alerts read too."""

from __future__ import annotations

import redis
from sqlalchemy.exc import SQLAlchemyError

from config.database import make_engine
from config.redis_connection import redis_client
from config.settings import Settings
from monitoring.signals import Signals, read_signals
from voicehook.ops.doctor.model import Check, Status

HEALTH_CHECKS = ("dead letters", "stuck events", "notify endpoints")


def health_checks(settings: Settings, redis_url: str | None, usable: bool) -> list[Check]:
    """The three checks; skipped unless the database (at the newest schema) answers."""
    if not usable:
        return _skipped("not checked: the database is not usable")
    engine = make_engine(settings, pool_size=1)
    client = redis_client(redis_url) if redis_url else None
    try:
        signals = read_signals(settings, engine, client)
    except (SQLAlchemyError, redis.RedisError) as exc:
        return _skipped(f"not checked: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
        if client is not None:
            client.close()
    return [
        check_dead_letters(signals, has_redis=client is not None),
        check_stuck_events(signals),
        check_notify_endpoints(signals),
    ]


def check_dead_letters(signals: Signals, *, has_redis: bool) -> Check:
    """No message sits in a dead-letter set (`dramatiq:<queue>.XQ`)."""
    if not has_redis:
        return Check("dead letters", Status.SKIP, "not checked: Redis is not configured")
    dead = {queue: depth.dead for queue, depth in signals.queues.items() if depth.dead}
    facts = {"dead": dead}
    if not dead:
        return Check("dead letters", Status.OK, "no dead-lettered messages", facts=facts)
    where = ", ".join(f"{count} on {queue}" for queue, count in dead.items())
    return Check(
        "dead letters",
        Status.WARN,
        f"{sum(dead.values())} dead-lettered message(s) ({where}): Dramatiq keeps them 7 days "
        "and never runs them again",
        "see each one's actor, id and recorded error with `voicehook dead-letters list`; "
        "once the cause is fixed, `voicehook dead-letters requeue --all` (or drop them: "
        "`voicehook dead-letters purge --all --yes`)",
        facts,
    )


def check_stuck_events(signals: Signals) -> Check:
    """No event is held past its lease, or queued and untouched long enough to be lost."""
    stuck = signals.counts.stuck_events
    age = signals.oldest_unprocessed_age_seconds
    facts = {"stuck": stuck, "oldestUnprocessedAgeSeconds": round(age, 3)}
    if not stuck:
        return Check("stuck events", Status.OK, "no stuck events", facts=facts)
    return Check(
        "stuck events",
        Status.WARN,
        f"{stuck} event(s) processing past their lease or queued and untouched "
        f"(the oldest unprocessed is {age / 60:.0f} min old)",
        "check that `voicehook worker` and `voicehook sweeper` run (the sweeper enqueues "
        "them again); or `voicehook events reprocess --status queued`",
        facts,
    )


def check_notify_endpoints(signals: Signals) -> Check:
    """No notification endpoint has been failing long enough to be flagged."""
    flagged = signals.counts.flagged_endpoints
    facts = {"flagged": flagged}
    if not flagged:
        return Check("notify endpoints", Status.OK, "no endpoint flagged", facts=facts)
    return Check(
        "notify endpoints",
        Status.WARN,
        f"{len(flagged)} notification endpoint(s) failing for long: {', '.join(flagged)}",
        "see `voicehook endpoints list`; once the app answers, "
        "`voicehook notifications resend` sends what it missed",
        facts,
    )


def _skipped(reason: str) -> list[Check]:
    return [Check(name, Status.SKIP, reason) for name in HEALTH_CHECKS]
