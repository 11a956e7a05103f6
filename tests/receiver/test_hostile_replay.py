"""Replays and headers cost little (issue 12, items 4 and 7): a duplicate with the same
bytes refers to the stored body, stored headers are an allow-list with capped values, and
prune can drop headers too; on SQLite and PostgreSQL. Replays go to a real `voicehook web`
(its writer process stores them); the headers, which the route picks before any commit, to
the receiver served on a thread of this process, which saves a process start per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select, update

from records.delivery_bodies import prune_bodies
from records.events import DELIVERIES, EVENTS, EventStatus
from records.types import utcnow
from tests.conftest import make_settings
from tests.in_process import Served, served_receiver_client
from tests.receiver.conftest import deliveries
from tests.receiver.hostile import post_signed, voicehook_web
from tests.services import ServerProcess
from voicehook.ops.export import DeliveryExport
from voicehook.ops.selection import build_filter


@pytest.fixture
def web(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[ServerProcess]:
    with voicehook_web(database_url, redis_url, tmp_path / "web.log") as server:
        yield server


@pytest.fixture
def served_receiver(database_url: str, redis_url: str, migrated_engine: Engine) -> Iterator[Served]:
    with served_receiver_client(make_settings(database_url, redis_url)) as served:
        yield served


def big_body() -> bytes:
    return orjson.dumps(
        {"event": "generation.ready", "data": {"id": "gen-replayed", "pad": "p" * 200_000}}
    )


def stored_body_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(func.length(DELIVERIES.c.body)), 0))
            ).scalar_one()
        )


class TestReplayAmplification:
    def test_replaying_a_body_stores_it_once(
        self, web: ServerProcess, migrated_engine: Engine
    ) -> None:
        """50 replays of one 200 KB body: 50 duplicates, one copy of the bytes, and each
        duplicate still exports with its body."""
        body = big_body()
        statuses = [post_signed(web, "", body=body).status_code for _ in range(51)]
        assert statuses == [202] + [200] * 50
        assert len(deliveries(migrated_engine)) == 51
        assert stored_body_bytes(migrated_engine) < 2 * len(body)
        export = DeliveryExport(migrated_engine, build_filter(now=utcnow()))
        exported = list(export)
        assert len(exported) == 51
        assert all(capture.body == body for capture in exported)

    def test_a_duplicate_with_other_bytes_keeps_its_own(
        self, web: ServerProcess, migrated_engine: Engine
    ) -> None:
        """Same event, different bytes: the duplicate's body is stored as sent."""
        first = orjson.dumps({"event": "generation.ready", "data": {"id": "gen-x", "n": 1}})
        second = orjson.dumps({"event": "generation.ready", "data": {"id": "gen-x", "n": 2}})
        assert post_signed(web, "", body=first).status_code == 202
        assert post_signed(web, "", body=second).status_code == 200
        assert [row["body"] for row in deliveries(migrated_engine)] == [first, second]


class TestStoredHeaders:
    def test_only_allowed_headers_are_stored_and_values_are_capped(
        self, served_receiver: Served, migrated_engine: Engine
    ) -> None:
        """Credential-bearing headers of any name are not stored; a long value is cut."""
        credentials = {
            "x-auth-token": "tok-1",
            "api-key": "key-1",
            "x-forwarded-authorization": "Bearer fwd",
            "x-amz-security-token": "amz-1",
            "authorization": "Bearer b",
        }
        headers = credentials | {"user-agent": "u" * 10_000}
        assert post_signed(served_receiver, "gen-headers", headers=headers).status_code == 202
        [delivery] = deliveries(migrated_engine)
        stored = delivery["headers"]
        assert isinstance(stored, dict)
        assert not set(credentials) & set(stored)
        assert 0 < len(stored["user-agent"]) <= 1024
        assert "x-voiceproductionai-signature" in stored

    def test_prune_can_drop_headers(self, served_receiver: Served, migrated_engine: Engine) -> None:
        """`prune --headers` empties the headers of old settled deliveries too."""
        assert post_signed(served_receiver, "gen-prune").status_code == 202
        with migrated_engine.begin() as conn:
            conn.execute(update(EVENTS).values(status=EventStatus.PROCESSED.value))
        result = prune_bodies(migrated_engine, utcnow() + timedelta(seconds=1), headers=True)
        assert (result.bodies, result.headers) == (1, 1)
        [delivery] = deliveries(migrated_engine)
        assert delivery["headers"] == {}
        assert delivery["body"] is None
