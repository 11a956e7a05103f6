"""Edge cases of export and `replay --direct`: bodies that are not UTF-8, pruned bodies,
forged captures, and a missing broker."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, update

from config.signing import SIGNATURE_HEADER, compute_signature
from records.envelope import ParsedEvent
from records.events import DELIVERIES
from tests.conftest import SECRET
from tests.ops.conftest import cli_env, run_cli, store
from tests.receiver.conftest import deliveries, enqueued_event_ids, envelope, events
from voicehook.ops.capture import Capture, capture_document, read_captures

NOT_UTF8 = b'{"event":"generation.ready","data":{"id":"bin-1","name":"caf\xe9"}}'


def capture_file(path: Path, body: bytes, signature: str) -> Path:
    """A capture document as `events export` writes it, with the given signature header."""
    capture = Capture(body=body, source=str(path), headers={SIGNATURE_HEADER.lower(): signature})
    path.write_bytes(orjson.dumps(capture_document(capture)))
    return path


def replay_direct(*args: str, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run_cli("replay", *args, "--direct", "--json", env=env)
    assert result.stdout, result.stderr
    return result.returncode, orjson.loads(result.stdout)


class TestExportEdges:
    def test_non_utf8_body_survives_as_base64(
        self, migrated_engine: Engine, database_url: str, tmp_path: Path
    ) -> None:
        """A stored body that is not UTF-8 is exported as base64 and reads back byte for byte,
        in a directory and in JSONL; replayed, it meets the receiver's own verdict (400)."""
        store(
            migrated_engine,
            NOT_UTF8,
            event=ParsedEvent("generation.ready", "bin-1", None, "generation.ready:bin-1"),
        )
        env = cli_env(database_url)
        assert run_cli("events", "export", str(tmp_path / "dir"), env=env).returncode == 0
        assert (
            run_cli("events", "export", str(tmp_path / "x.jsonl"), "--jsonl", env=env).returncode
            == 0
        )
        [path] = (tmp_path / "dir").iterdir()
        document = orjson.loads(path.read_bytes())
        assert document["bodyEncoding"] == "base64"
        assert base64.b64decode(document["body"]) == NOT_UTF8
        for source in (tmp_path / "dir", tmp_path / "x.jsonl"):
            [capture] = read_captures([source])
            assert capture.body == NOT_UTF8
        code, summary = replay_direct(str(tmp_path / "dir"), env=env)
        assert code == 1
        assert summary["reasons"] == {'400 {"error":"invalid_payload"}': 1}

    def test_pruned_bodies_are_skipped_and_counted(
        self, migrated_engine: Engine, database_url: str, tmp_path: Path
    ) -> None:
        """Deliveries whose body was pruned are left out of an export, and counted."""
        kept = store(migrated_engine, envelope("generation.ready", "g1"))
        gone = store(migrated_engine, envelope("generation.ready", "g2"))
        with migrated_engine.begin() as conn:
            conn.execute(update(DELIVERIES).where(DELIVERIES.c.event_id == gone).values(body=None))
        env = cli_env(database_url)
        result = run_cli("events", "export", str(tmp_path / "out"), "--json", env=env)
        assert orjson.loads(result.stdout)["written"] == 1
        assert orjson.loads(result.stdout)["skippedPruned"] == 1
        [capture] = read_captures([tmp_path / "out"])
        assert capture.event_id == kept
        text = run_cli("events", "export", str(tmp_path / "again"), env=env)
        assert "skipped 1 deliveries whose body was pruned" in text.stdout

    def test_out_must_match_the_format(self, migrated_engine: Engine, database_url: str,
                                       tmp_path: Path) -> None:  # fmt: skip
        """A directory for --jsonl, or a file without it, is refused (exit 2)."""
        (tmp_path / "file").write_text("")
        env = cli_env(database_url)
        assert run_cli("events", "export", str(tmp_path), "--jsonl", env=env).returncode == 2
        assert run_cli("events", "export", str(tmp_path / "file"), env=env).returncode == 2


class TestDirectReplay:
    def test_forged_captures_are_not_injected(
        self, migrated_engine: Engine, database_url: str, redis_url: str, tmp_path: Path
    ) -> None:
        """An edited body under its old signature, or one signed with an unknown secret, is
        rejected 401 (exit 1) and nothing is stored; --secret only helps when it is one of
        VPAI_WEBHOOK_SECRETS."""
        body = envelope("generation.ready", "g1")
        edited = body.replace(b"g1", b"g2")
        capture_file(tmp_path / "edited.json", edited, compute_signature(body, SECRET.encode()))
        capture_file(tmp_path / "foreign.json", body, compute_signature(body, b"not ours"))
        env = cli_env(database_url, redis_url)
        code, summary = replay_direct(str(tmp_path), env=env)
        assert code == 1
        assert summary["reasons"] == {'401 {"error":"invalid_signature"}': 2}
        assert events(migrated_engine) == []
        code, _ = replay_direct(str(tmp_path), "--secret", "guess", env=env)
        assert code == 1
        assert events(migrated_engine) == []
        code, signed = replay_direct(str(tmp_path), "--secret", SECRET, env=env)
        assert (code, signed["accepted"]) == (0, 2)
        [first, _second] = deliveries(migrated_engine)
        assert first["headers"][SIGNATURE_HEADER.lower()] == compute_signature(  # type: ignore[index]
            edited, SECRET.encode()
        )
        assert first["headers"]["x-voicehook-replay"] == "file"  # type: ignore[index]

    def test_without_a_broker_events_wait_for_the_sweeper(
        self, migrated_engine: Engine, database_url: str, redis_url: str, tmp_path: Path
    ) -> None:
        """No REDIS_URL: the event is stored `received` and the summary says the sweeper will
        enqueue it; nothing reaches Redis."""
        body = envelope("generation.ready", "g1")
        capture_file(tmp_path / "a.json", body, compute_signature(body, SECRET.encode()))
        code, summary = replay_direct(str(tmp_path), env=cli_env(database_url))
        assert (code, summary["accepted"]) == (0, 1)
        assert "sweeper" in summary["notes"][0]
        assert [e["status"] for e in events(migrated_engine)] == ["received"]
        assert enqueued_event_ids(redis_url) == []

    def test_needs_a_webhook_secret(self, migrated_engine: Engine, database_url: str,
                                    tmp_path: Path) -> None:  # fmt: skip
        """--direct verifies like the receiver, so without VPAI_WEBHOOK_SECRETS it refuses."""
        (tmp_path / "a.json").write_bytes(envelope())
        env = cli_env(database_url) | {"VPAI_WEBHOOK_SECRETS": ""}
        result = run_cli("replay", str(tmp_path / "a.json"), "--direct", "--secret", "s", env=env)
        assert result.returncode == 2
        assert "VPAI_WEBHOOK_SECRETS is not set" in result.stderr
