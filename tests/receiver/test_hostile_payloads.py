"""A bad delivery fails alone, and forwarded addresses are the client's (issue 12, items 3
and 5): against a real `voicehook web`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from receiver.committer import Committer
from receiver.forwarded import TrustedProxies, client_address
from receiver.group_commit import GroupCommitter
from receiver.inline_commit import InlineCommitter
from receiver.writer import BatchWriter
from receiver.writer_pool import WriterPool
from receiver.writer_protocol import Committed
from records.envelope import parse_event
from records.errors import InvalidPayload
from records.event_store import UNSTORABLE, EventStore, Incoming, Outcome
from tests.conftest import make_settings, migrated
from tests.receiver.conftest import deliveries, incoming
from tests.receiver.hostile import post_signed, voicehook_web
from tests.services import ServerProcess


@pytest.fixture
def web(
    database_url: str, redis_url: str, migrated_engine: Engine, tmp_path: Path
) -> Iterator[ServerProcess]:
    env = {"FORWARDED_ALLOW_IPS": "*"}
    with voicehook_web(database_url, redis_url, tmp_path / "web.log", env=env) as server:
        yield server


def body(event: str = "generation.ready", resource_id: str = "gen-1") -> bytes:
    return orjson.dumps({"event": event, "data": {"id": resource_id}})


class TestUnstorableFields:
    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            (body(event="generation.ready\u0000"), "NUL"),
            (body(resource_id="gen\u0000-1"), "NUL"),
            (body(event="e" * 101), "longer than 100"),
        ],
    )
    def test_the_envelope_refuses_what_no_column_can_hold(self, raw: bytes, reason: str) -> None:
        """NUL in the type or id, or a type longer than its column, is an invalid payload."""
        with pytest.raises(InvalidPayload, match=reason):
            parse_event(raw)

    def test_nul_deliveries_get_400_while_concurrent_valid_ones_all_succeed(
        self, web: ServerProcess, migrated_engine: Engine
    ) -> None:
        """60 valid deliveries sent alongside NUL-bearing ones are all accepted; the bad ones
        are refused with 400 invalid_payload, on both databases alike."""
        bad = [body(resource_id=f"bad\u0000{n}") for n in range(10)] + [
            body(event=f"evil\u0000{n}") for n in range(10)
        ]
        good = [body(resource_id=f"good-{n}") for n in range(60)]
        with ThreadPoolExecutor(32) as pool:
            bad_answers = pool.map(lambda raw: post_signed(web, "", body=raw), bad)
            good_answers = pool.map(lambda raw: post_signed(web, "", body=raw), good)
            bad_statuses = [(r.status_code, r.json()) for r in bad_answers]
            good_statuses = [r.status_code for r in good_answers]
        assert good_statuses == [202] * 60
        assert bad_statuses == [(400, {"error": "invalid_payload"})] * 20
        assert len(deliveries(migrated_engine)) == 60


class TestBatchCommitRefused:
    @pytest.mark.postgres
    def test_only_the_delivery_the_database_refuses_fails(self, postgres_url: str) -> None:
        """A batch the database refuses is stored one by one: only the guilty one fails."""
        with migrated(postgres_url) as engine:
            rows = [incoming(f"gen-{n}").row() for n in range(3)]
            guilty = list(rows[1])
            guilty[1] = "generation.ready\x00"  # past the envelope's check, as if it had none
            rows[1] = tuple(guilty)  # type: ignore[assignment]
            writer = BatchWriter(EventStore(engine), enqueue=lambda ids, traces: None)
            answer = writer.commit([rows])
            assert isinstance(answer, Committed)
            statuses = [wire[2] for wire in answer.outcomes]
            assert statuses == ["received", UNSTORABLE, "received"]
            assert len(deliveries(engine)) == 2

    @pytest.mark.postgres
    @pytest.mark.parametrize("kind", ["group", "inline"])
    def test_each_committer_fails_only_the_guilty_delivery(
        self, kind: str, postgres_url: str, redis_url: str
    ) -> None:
        """Through either committer (writer processes, or the in-process thread), concurrent
        deliveries sharing a batch with one the database refuses are all stored; only the
        guilty one comes back UNSTORABLE (which the endpoint answers 503)."""
        settings = make_settings(postgres_url, redis_url)
        guilty = incoming("gen-guilty")
        # Past the envelope's check, as if it had none: only the database refuses it.
        guilty.event = dataclasses.replace(guilty.event, type="generation.ready\x00")
        batch = [incoming("gen-a"), incoming("gen-b"), guilty, incoming("gen-c")]

        def committer(engine: Engine) -> Committer:
            if kind == "inline":
                return InlineCommitter(engine, enqueue=lambda ids, traces: None)
            return GroupCommitter(WriterPool(settings, size=1, on_enqueue_failure=lambda _: None))

        async def submit_together(engine: Engine, items: list[Incoming]) -> list[Outcome]:
            chosen = committer(engine)
            await chosen.start()
            try:
                return list(await asyncio.gather(*(chosen.submit(item) for item in items)))
            finally:
                await chosen.stop()

        with migrated(postgres_url) as engine:
            outcomes = asyncio.run(submit_together(engine, batch))
            assert [o.status for o in outcomes] == ["received"] * 2 + [UNSTORABLE, "received"]
            stored = {row["event_id"] for row in deliveries(engine)}
            assert stored == {o.event_id for o in outcomes if o.status != UNSTORABLE}

    def test_a_remote_address_of_any_length_is_stored(self, migrated_engine: Engine) -> None:
        """The remote address column holds any address (it overflowed at 64 characters)."""
        delivery = incoming("gen-long-address")
        delivery.remote_addr = "a" * 300
        EventStore(migrated_engine).persist([delivery])
        assert [row["remote_addr"] for row in deliveries(migrated_engine)] == ["a" * 300]


class TestForwardedFor:
    def test_the_rightmost_untrusted_address_is_the_client(self) -> None:
        """Behind trusted proxies the client is the rightmost hop that is not one of them."""
        proxies = TrustedProxies.parse(["127.0.0.1", "10.0.0.0/8"])
        assert client_address("127.0.0.1", "1.1.1.1, 2.2.2.2, 10.0.0.5", proxies) == "2.2.2.2"
        assert client_address("192.0.2.1", "1.1.1.1", proxies) == "192.0.2.1"
        everyone = TrustedProxies.parse(["*"])
        assert client_address("192.0.2.1", "1.1.1.1, 2.2.2.2", everyone) == "2.2.2.2"
        assert client_address("192.0.2.1", "[2001:db8::1]:443", everyone) == "2001:db8::1"

    def test_what_is_not_an_ip_address_is_never_the_client(self) -> None:
        """A hostname, garbage, or an overlong entry leaves the peer's address."""
        everyone = TrustedProxies.parse(["*"])
        for junk in ("not-an-ip", "x" * 100, "unknown", ""):
            assert client_address("192.0.2.1", junk, everyone) == "192.0.2.1"

    def test_voicehook_web_stores_the_address_the_last_proxy_saw(
        self, web: ServerProcess, migrated_engine: Engine
    ) -> None:
        """Under `*`, a spoofed leftmost entry, a non-address and a 100-character entry are
        never stored; every delivery is accepted."""
        answers = [
            post_signed(web, "xff-1", headers={"x-forwarded-for": "1.1.1.1, 2.2.2.2"}),
            post_signed(web, "xff-2", headers={"x-forwarded-for": "not-an-ip"}),
            post_signed(web, "xff-3", headers={"x-forwarded-for": "9" * 100}),
        ]
        assert [answer.status_code for answer in answers] == [202, 202, 202]
        stored = [row["remote_addr"] for row in deliveries(migrated_engine)]
        assert stored == ["2.2.2.2", "127.0.0.1", "127.0.0.1"]
