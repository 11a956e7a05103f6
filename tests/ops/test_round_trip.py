"""Export, then replay, against receivers served over real HTTP (uvicorn on a thread), the
`voicehook` CLI in this process or as a process of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Engine

from tests.conftest import OLD_SECRET, SECRET, make_settings
from tests.in_process import Served, served_receiver
from tests.ops.conftest import cli_env, run_cli
from tests.receiver.conftest import (
    WEBHOOK,
    deliveries,
    enqueued_event_ids,
    envelope,
    events,
    post,
    receiver_env,
)
from tests.services import wait_for
from tests.voicehook.test_cli_processes import voicehook

ANOTHER_SECRET = "whsec_somewhere_else"
HAND_WRITTEN = (
    b'{ "event" : "generation.ready",\n  "data": {"id": "g\\u00e9n-5", "note": "caf\xc3\xa9"},'
    b'\n  "timestamp": "2025-01-01T00:00:00Z" }\n'
)


def seed(server: Served, engine: Engine) -> list[bytes]:
    """Deliveries of every kind: known and unknown types, a duplicate, no `data.id`, odd
    whitespace and non-ASCII; one signed with the older secret. Waits until they settle."""
    bodies = [
        envelope("generation.ready", "gen-1", downloadUrl="http://x/a.mp3"),
        envelope("generation.failed", "gen-2", error="boom"),
        envelope("generation.ready", "gen-1", downloadUrl="http://x/a.mp3"),
        envelope("voice.cloned", "clone-1", voiceId="v-1"),
        envelope("widget.exploded", "w-1"),
        envelope("generation.failed", None, error="no id"),
        HAND_WRITTEN,
    ]
    for number, body in enumerate(bodies):
        secret = OLD_SECRET if number == 3 else SECRET
        assert post(server.client, body, secret=secret).status_code in (200, 202)
    wait_for(lambda: all(e["status"] != "received" for e in events(engine)))
    return bodies


def event_facts(engine: Engine) -> set[tuple[object, ...]]:
    return {(e["type"], e["dedup_key"], e["resource_id"], e["status"]) for e in events(engine)}


def replay_json(
    *args: str, env: dict[str, str], process: bool = False
) -> tuple[int, dict[str, Any]]:
    """`voicehook replay ... --json`: its exit code and summary (in a process of its own if
    `process`, else in this one)."""
    result = (voicehook if process else run_cli)("replay", *args, "--json", env=env)
    assert result.stdout, result.stderr
    return result.returncode, orjson.loads(result.stdout)


def counts(summary: dict[str, Any]) -> tuple[object, ...]:
    return tuple(summary[k] for k in ("accepted", "duplicate", "rejected", "errors"))


class TestExport:
    def test_one_document_per_delivery_exactly_as_received(
        self,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        redis_url: str,
        tmp_path: Path,
    ) -> None:
        """Every delivery, duplicates included, becomes a file in arrival order holding its
        headers (signature, no credentials) and its body byte for byte."""
        seed(receiver, migrated_engine)
        out = tmp_path / "export"
        result = run_cli("events", "export", str(out), "--json", env=cli_env(database_url))
        assert result.returncode == 0, result.stderr
        assert orjson.loads(result.stdout)["written"] == 7
        stored = deliveries(migrated_engine)
        files = sorted(out.iterdir())
        assert len(files) == len(stored)
        for path, delivery in zip(files, stored, strict=True):
            document = orjson.loads(path.read_bytes())
            assert document["deliveryId"] == delivery["id"]
            assert document["eventId"] == delivery["event_id"]
            assert document["bodyEncoding"] == "utf-8"
            assert document["body"].encode() == delivery["body"]
            assert document["headers"]["x-voiceproductionai-signature"].startswith("sha256=")
            assert "authorization" not in document["headers"]
        assert orjson.loads(files[2].read_bytes())["eventType"] == "generation.ready"

    def test_filters_by_type_status_and_time(
        self,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        tmp_path: Path,
    ) -> None:
        """--type, --status and --since narrow the export; a JSONL export is one file."""
        seed(receiver, migrated_engine)
        env = cli_env(database_url)
        out = tmp_path / "ready.jsonl"
        typed = run_cli(
            "events", "export", str(out), "--jsonl", "--type", "generation.ready", env=env
        )
        assert typed.returncode == 0, typed.stderr
        assert len(out.read_bytes().splitlines()) == 3  # gen-1 twice, and the hand-written one
        ignored = run_cli(
            "events", "export", str(tmp_path / "ign"), "--status", "ignored", "--json", env=env
        )
        assert orjson.loads(ignored.stdout)["written"] == 1
        future = run_cli(
            "events", "export", str(tmp_path / "none"), "--since", "2999-01-01", "--json", env=env
        )
        assert orjson.loads(future.stdout)["written"] == 0
        bad = run_cli("events", "export", str(tmp_path / "x"), "--since", "yesterday", env=env)
        assert bad.returncode == 2
        assert "ISO-8601" in bad.stderr


class TestReplayRoundTrip:
    def test_replay_of_what_is_stored_is_all_duplicates(
        self,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        tmp_path: Path,
    ) -> None:
        """Replaying an export into the receiver that stored it: every delivery a duplicate,
        no new event, exit 0."""
        seed(receiver, migrated_engine)
        before = event_facts(migrated_engine)
        env = cli_env(database_url)
        assert run_cli("events", "export", str(tmp_path / "out"), env=env).returncode == 0
        code, summary = replay_json(str(tmp_path / "out"), "--to", receiver.url + WEBHOOK, env=env)
        assert code == 0, summary["reasons"]
        assert counts(summary) == (0, 7, 0, 0)
        assert event_facts(migrated_engine) == before
        assert len(deliveries(migrated_engine)) == 14

    def test_replay_into_an_empty_database_reproduces_the_events(
        self,
        *,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        fresh_database_url: str,
        fresh_engine: Engine,
        redis_url: str,
        tmp_path: Path,
    ) -> None:
        """`voicehook events export` then `voicehook replay` (processes) into a second receiver
        on an empty database: the same events (types, dedup keys, statuses) and byte-identical
        bodies, in the original order, marked as replays."""
        seed(receiver, migrated_engine)
        env = cli_env(database_url)
        assert voicehook("events", "export", str(tmp_path / "out"), env=env).returncode == 0
        with served_receiver(make_settings(fresh_database_url, redis_url)) as second:
            code, summary = replay_json(
                str(tmp_path / "out"), "--to", second + WEBHOOK, env=env, process=True
            )
            assert code == 0
            assert counts(summary) == (6, 1, 0, 0)
            wait_for(lambda: all(e["status"] != "received" for e in events(fresh_engine)))
        assert event_facts(fresh_engine) == event_facts(migrated_engine)
        statuses = sorted(str(e["status"]) for e in events(fresh_engine))
        assert statuses == ["ignored"] + ["queued"] * 5
        originals, replayed = deliveries(migrated_engine), deliveries(fresh_engine)
        assert [d["body"] for d in replayed] == [d["body"] for d in originals]
        assert [d["duplicate"] for d in replayed] == [d["duplicate"] for d in originals]
        marks = [cast(dict[str, str], d["headers"])["x-voicehook-replay"] for d in replayed]
        assert marks == [str(d["id"]) for d in originals]
        new_ids = {str(e["id"]) for e in events(fresh_engine) if e["status"] == "queued"}
        assert new_ids <= set(enqueued_event_ids(redis_url))

    def test_resigning_for_a_receiver_with_another_secret(
        self,
        *,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        fresh_database_url: str,
        fresh_engine: Engine,
        redis_url: str,
        tmp_path: Path,
    ) -> None:
        """Captured signatures fail at a receiver with another secret (401, exit 1, reason in
        the summary); re-signed with --secret they are accepted."""
        seed(receiver, migrated_engine)
        env = cli_env(database_url)
        assert run_cli("events", "export", str(tmp_path / "out"), env=env).returncode == 0
        other = make_settings(fresh_database_url, redis_url, vpai_webhook_secrets=ANOTHER_SECRET)
        with served_receiver(other) as base:
            url = base + WEBHOOK
            code, refused = replay_json(str(tmp_path / "out"), "--to", url, env=env)
            assert code == 1
            assert counts(refused) == (0, 0, 7, 0)
            assert refused["reasons"] == {'401 {"error":"invalid_signature"}': 7}
            assert events(fresh_engine) == []
            text = run_cli("replay", str(tmp_path / "out"), "--to", url, env=env)
            assert text.returncode == 1
            assert '7 x 401 {"error":"invalid_signature"}' in text.stdout
            code, signed = replay_json(
                str(tmp_path / "out"), "--to", url, "--secret", ANOTHER_SECRET, env=env
            )
            assert code == 0
            assert counts(signed) == (6, 1, 0, 0)

    def test_bare_body_files_need_a_secret(
        self, receiver: Served, migrated_engine: Engine, database_url: str, tmp_path: Path
    ) -> None:
        """Bare bodies are refused up front without --secret (exit 2, saying so); signed with
        it, they are stored byte for byte."""
        folder = tmp_path / "bodies"
        folder.mkdir()
        (folder / "a.json").write_bytes(HAND_WRITTEN)
        single = tmp_path / "b.txt"
        single.write_bytes(envelope("voice.cloned", "clone-9"))
        env = cli_env(database_url)
        refused = run_cli("replay", str(folder), str(single), "--to", receiver.url + WEBHOOK,
                            env=env)  # fmt: skip
        assert refused.returncode == 2
        assert "bare body" in refused.stderr
        assert "--secret" in refused.stderr
        assert events(migrated_engine) == []
        code, summary = replay_json(
            str(folder), str(single), "--to", receiver.url + WEBHOOK, "--secret", SECRET, env=env
        )
        assert code == 0
        assert counts(summary) == (2, 0, 0, 0)
        assert [d["body"] for d in deliveries(migrated_engine)] == [
            HAND_WRITTEN,
            envelope("voice.cloned", "clone-9"),
        ]

    def test_unreachable_target_is_an_error(self, database_url: str, tmp_path: Path) -> None:
        """Nothing listening: every delivery is a network error, exit 1."""
        (tmp_path / "a.json").write_bytes(envelope())
        code, summary = replay_json(
            str(tmp_path / "a.json"), "--to", "http://127.0.0.1:9/hook", "--secret", SECRET,
            env=cli_env(database_url),
        )  # fmt: skip
        assert code == 1
        assert counts(summary) == (0, 0, 0, 1)
        [reason] = summary["reasons"]
        assert reason.startswith("network: ConnectError")


class TestDirectReplay:
    def test_jsonl_export_injected_directly(
        self,
        *,
        receiver: Served,
        migrated_engine: Engine,
        database_url: str,
        fresh_database_url: str,
        fresh_engine: Engine,
        redis_url: str,
        tmp_path: Path,
    ) -> None:
        """--direct into an empty database: verified against VPAI_WEBHOOK_SECRETS, stored with
        the same dedup, new known events queued and enqueued, without any HTTP."""
        seed(receiver, migrated_engine)
        out = tmp_path / "all.jsonl"
        exported = run_cli("events", "export", str(out), "--jsonl", env=cli_env(database_url))
        assert exported.returncode == 0, exported.stderr
        before = set(enqueued_event_ids(redis_url))
        env = receiver_env(fresh_database_url, redis_url)
        code, summary = replay_json(str(out), "--direct", env=env)
        assert code == 0
        assert counts(summary) == (6, 1, 0, 0)
        assert event_facts(fresh_engine) == event_facts(migrated_engine)
        assert [d["body"] for d in deliveries(fresh_engine)] == [
            d["body"] for d in deliveries(migrated_engine)
        ]
        queued = {str(e["id"]) for e in events(fresh_engine) if e["status"] == "queued"}
        assert len(queued) == 5
        assert set(enqueued_event_ids(redis_url)) - before == queued
        again_code, again = replay_json(str(out), "--direct", env=env)
        assert (again_code, counts(again)) == (0, (0, 7, 0, 0))
