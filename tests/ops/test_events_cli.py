"""`voicehook events list|show|reprocess|prune` on SQLite and PostgreSQL, with a real Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, update

from records.delivery_bodies import prune_bodies
from records.events import DELIVERIES, EVENTS
from records.types import utcnow
from tests.ops.conftest import cli_env, run_cli, store
from tests.receiver.conftest import deliveries, enqueued_event_ids, envelope, events
from tests.services import free_port


def set_status(engine: Engine, event_id: str, status: str, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(status=status, **values))


def event(engine: Engine, event_id: str) -> dict[str, Any]:
    [found] = [e for e in events(engine) if e["id"] == event_id]
    return found


def as_json(*args: str, env: dict[str, str]) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


class TestList:
    def test_filters_and_counts_deliveries(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """Newest first with delivery counts; --type, --status, --failed, --id, --since and
        --limit narrow the list."""
        ready = store(migrated_engine, envelope("generation.ready", "g1"))
        store(migrated_engine, envelope("generation.ready", "g1"))
        failed = store(migrated_engine, envelope("generation.failed", "g2"))
        ignored = store(migrated_engine, envelope("widget.exploded", "w1"))
        set_status(migrated_engine, failed, "failed", last_error="upstream said no")
        env = cli_env(database_url)

        listed = as_json("events", "list", env=env)
        assert [e["id"] for e in listed] == [ignored, failed, ready]
        assert [e["deliveries"] for e in listed] == [1, 1, 2]
        assert listed[1]["lastError"] == "upstream said no"

        def ids(*flags: str) -> list[str]:
            return [e["id"] for e in as_json("events", "list", *flags, env=env)]

        assert ids("--type", "generation.ready") == [ready]
        assert ids("--status", "ignored") == [ignored]
        assert ids("--failed") == [failed]
        assert ids("--id", ready, "--id", ignored) == [ignored, ready]
        assert ids("--since", "1h") == [ignored, failed, ready]
        assert ids("--since", "2999-01-01") == []
        assert ids("--limit", "1") == [ignored]
        table = run_cli("events", "list", env=env | {"COLUMNS": "200"})
        assert "widget.exploded" in table.stdout

    def test_bad_selectors_exit_2(self, migrated_engine: Engine, database_url: str) -> None:
        """An unknown status, or --failed with another status, is refused with a reason."""
        env = cli_env(database_url)
        unknown = run_cli("events", "list", "--status", "done", env=env)
        assert unknown.returncode == 2
        assert "unknown status 'done'" in unknown.stderr
        assert run_cli("events", "list", "--failed", "--status", "queued", env=env).returncode == 2


class TestShow:
    def test_event_with_its_deliveries(self, migrated_engine: Engine, database_url: str) -> None:
        """The event and each delivery: time, remote address, duplicate flag, body size."""
        body = envelope("generation.ready", "g1")
        event_id = store(migrated_engine, body, remote_addr="198.51.100.1")
        store(migrated_engine, body, remote_addr="198.51.100.2")
        shown = as_json("events", "show", event_id, env=cli_env(database_url))
        assert shown["dedupKey"] == "generation.ready:g1"
        assert [
            (d["remoteAddr"], d["duplicate"], d["bodySize"], d["bodyStored"])
            for d in shown["deliveries"]
        ] == [("198.51.100.1", False, len(body), True), ("198.51.100.2", True, len(body), True)]
        text = run_cli("events", "show", event_id, env=cli_env(database_url))
        assert "generation.ready:g1" in text.stdout
        assert "198.51.100.2" in text.stdout

    def test_body_is_printed_exactly(self, migrated_engine: Engine, database_url: str) -> None:
        """--body writes the first stored body's bytes, unchanged, to stdout."""
        body = b'{ "event": "voice.cloned",\n "data": {"id": "c\\u00e9"} }'
        event_id = store(migrated_engine, body)
        result = run_cli("events", "show", event_id, "--body", env=cli_env(database_url))
        assert result.returncode == 0
        assert result.stdout_bytes == body

    def test_unknown_or_pruned_exit_1(self, migrated_engine: Engine, database_url: str) -> None:
        """No such event, or --body of an event whose bodies were pruned: exit 1, saying so."""
        env = cli_env(database_url)
        missing = run_cli("events", "show", "nope", env=env)
        assert (missing.returncode, "no event nope" in missing.stderr) == (1, True)
        event_id = store(migrated_engine, envelope())
        with migrated_engine.begin() as conn:
            conn.execute(update(DELIVERIES).values(body=None))
        pruned = run_cli("events", "show", event_id, "--body", env=env)
        assert (pruned.returncode, "pruned" in pruned.stderr) == (1, True)


class TestReprocess:
    def test_failed_events_are_requeued_and_enqueued_once(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """After the cause is fixed, --failed puts every failed event back to `queued`
        (finished_at cleared, attempts and last error kept) and enqueues each exactly once."""
        first = store(migrated_engine, envelope("generation.failed", "g1"))
        second = store(migrated_engine, envelope("generation.ready", "g2"))
        done = store(migrated_engine, envelope("generation.ready", "g3"))
        finished = utcnow()
        for event_id in (first, second):
            set_status(migrated_engine, event_id, "failed", attempts=3, last_error="402",
                       finished_at=finished)  # fmt: skip
        set_status(migrated_engine, done, "processed", attempts=1, finished_at=finished)
        env = cli_env(database_url, redis_url)

        result = as_json("events", "reprocess", "--failed", env=env)
        assert result == {
            "dryRun": False,
            "selected": 2,
            "requeued": [first, second],
            "skipped": {},
        }
        for event_id in (first, second):
            row = event(migrated_engine, event_id)
            assert row["status"] == "queued"
            assert row["finished_at"] is None
            assert row["queued_at"] is not None
            assert (row["attempts"], row["last_error"]) == (3, "402")
        assert event(migrated_engine, done)["status"] == "processed"
        assert enqueued_event_ids(redis_url) == [first, second]

        again = as_json("events", "reprocess", "--failed", env=env)
        assert again["selected"] == 0
        assert enqueued_event_ids(redis_url) == [first, second]

    def test_refuses_without_a_selector(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """No --id/--failed/--since/--type/--status: exit 2, nothing touched or enqueued."""
        event_id = store(migrated_engine, envelope())
        set_status(migrated_engine, event_id, "failed")
        refused = run_cli("events", "reprocess", env=cli_env(database_url, redis_url))
        assert refused.returncode == 2
        assert "say which events" in refused.stderr
        assert event(migrated_engine, event_id)["status"] == "failed"
        assert enqueued_event_ids(redis_url) == []

    def test_dry_run_changes_nothing(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """--dry-run names what would be requeued, changes no row and enqueues nothing."""
        event_id = store(migrated_engine, envelope())
        set_status(migrated_engine, event_id, "processed")
        env = cli_env(database_url, redis_url)
        result = as_json("events", "reprocess", "--type", "generation.ready", "--dry-run", env=env)
        assert (result["dryRun"], result["requeued"]) == (True, [event_id])
        assert event(migrated_engine, event_id)["status"] == "processed"
        assert enqueued_event_ids(redis_url) == []

    def test_skips_held_and_pruned_events(
        self, migrated_engine: Engine, database_url: str, redis_url: str
    ) -> None:
        """An event a worker holds, and one with no body left, are skipped with the reason."""
        held = store(migrated_engine, envelope("generation.ready", "g1"))
        pruned = store(migrated_engine, envelope("generation.ready", "g2"))
        fine = store(migrated_engine, envelope("generation.ready", "g3"))
        set_status(migrated_engine, held, "processing", started_at=utcnow())
        for event_id in (pruned, fine):
            set_status(migrated_engine, event_id, "processed")
        with migrated_engine.begin() as conn:
            conn.execute(
                update(DELIVERIES).where(DELIVERIES.c.event_id == pruned).values(body=None)
            )
        env = cli_env(database_url, redis_url)
        result = as_json("events", "reprocess", "--id", held, "--id", pruned, "--id", fine, env=env)
        assert result["requeued"] == [fine]
        assert "processing" in result["skipped"][held]
        assert "pruned" in result["skipped"][pruned]
        assert enqueued_event_ids(redis_url) == [fine]
        assert event(migrated_engine, held)["status"] == "processing"

    def test_broker_down_leaves_events_as_they_were(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """Redis refusing the messages rolls the batch back: exit 1, events still failed."""
        event_id = store(migrated_engine, envelope())
        set_status(migrated_engine, event_id, "failed")
        env = cli_env(database_url, f"redis://127.0.0.1:{free_port()}/0")
        result = run_cli("events", "reprocess", "--failed", env=env)
        assert result.returncode == 1
        assert "could not enqueue" in result.stderr
        assert event(migrated_engine, event_id)["status"] == "failed"


class TestPrune:
    def test_drops_old_settled_bodies_only(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """Bodies of old processed/ignored events go (rows, headers, sizes, events stay);
        old failed or waiting ones and recent ones are kept; --dry-run changes nothing."""
        body = envelope("generation.ready", "g1")
        processed = store(migrated_engine, body)
        store(migrated_engine, body)  # a duplicate delivery of it: same bytes, no copy
        ignored = store(migrated_engine, envelope("widget.exploded", "w1"))
        failed = store(migrated_engine, envelope("generation.failed", "g2"))
        waiting = store(migrated_engine, envelope("voice.cloned", "c1"))
        recent = store(migrated_engine, envelope("generation.ready", "g9"))
        set_status(migrated_engine, processed, "processed")
        set_status(migrated_engine, failed, "failed")
        set_status(migrated_engine, recent, "processed")
        with migrated_engine.begin() as conn:
            conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.event_id != recent)
                .values(received_at=utcnow() - timedelta(days=40))
            )
        before = deliveries(migrated_engine)
        old_settled = [
            d for d in before if d["event_id"] in (processed, ignored) and d["body"] is not None
        ]
        env = cli_env(database_url)

        dry = as_json("events", "prune", "--older-than", "30d", "--dry-run", env=env)
        assert (dry["bodies"], dry["keptUnsettled"]) == (2, 2)
        assert dry["bytes"] == sum(int(str(d["body_size"])) for d in old_settled)
        assert deliveries(migrated_engine) == before

        done = as_json("events", "prune", "--older-than", "30d", env=env)
        assert (done["dryRun"], done["bodies"], done["bytes"]) == (False, 2, dry["bytes"])
        after = deliveries(migrated_engine)
        assert len(after) == len(before)
        for old, new in zip(before, after, strict=True):
            gone = old["event_id"] in (processed, ignored)
            assert new["body"] == (None if gone else old["body"])
            assert (new["headers"], new["body_size"]) == (old["headers"], old["body_size"])
        assert {e["id"]: e["status"] for e in events(migrated_engine)} == {
            processed: "processed", ignored: "ignored", failed: "failed",
            waiting: "received", recent: "processed",
        }  # fmt: skip
        assert as_json("events", "prune", "--older-than", "30d", env=env)["bodies"] == 0

    def test_works_in_batches(self, migrated_engine: Engine) -> None:
        """With a batch smaller than the work, every eligible body is still dropped."""
        for n in range(5):
            set_status(migrated_engine, store(migrated_engine, envelope(resource_id=f"g{n}")),
                       "processed")  # fmt: skip
        result = prune_bodies(migrated_engine, utcnow() + timedelta(seconds=1), batch=2)
        assert result.bodies == 5
        assert all(d["body"] is None for d in deliveries(migrated_engine))

    def test_bad_age_exits_2(self, migrated_engine: Engine, database_url: str) -> None:
        """An --older-than that is no time spec is refused before anything happens."""
        result = run_cli("events", "prune", "--older-than", "ages", env=cli_env(database_url))
        assert result.returncode == 2
