"""The webhook endpoint on SQLite and PostgreSQL with a real Redis: in process through
TestClient, and over a real socket (uvicorn on a thread) where HTTP framing is the point."""

from __future__ import annotations

import select
import socket

import orjson
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from config.signing import SIGNATURE_HEADER
from tests.conftest import OLD_SECRET, make_settings
from tests.in_process import receiver_client, served_receiver
from tests.receiver.conftest import (
    WEBHOOK,
    deliveries,
    enqueued_event_ids,
    envelope,
    events,
    http_client,
    post,
    signed_headers,
)
from tests.services import ServerProcess, wait_for


class TestAccepted:
    def test_new_event_is_stored_and_enqueued(
        self, receiver: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """A signed new event is committed, answered 202 with its id, then enqueued."""
        response = post(receiver, envelope("generation.ready", "gen-1"))
        assert response.status_code == 202
        event_id = response.json()["eventId"]
        assert response.json() == {"status": "accepted", "eventId": event_id}
        [event] = events(migrated_engine)
        assert event["id"] == event_id
        assert event["type"] == "generation.ready"
        assert event["resource_id"] == "gen-1"
        assert event["dedup_key"] == "generation.ready:gen-1"
        wait_for(lambda: enqueued_event_ids(redis_url) == [event_id])
        wait_for(lambda: events(migrated_engine)[0]["status"] == "queued")

    def test_delivery_keeps_the_exact_bytes_and_no_credentials(
        self, receiver: TestClient, migrated_engine: Engine
    ) -> None:
        """The raw body is stored byte for byte; credential headers are not stored."""
        body = b'{ "event" : "generation.ready",\n "data": {"id": "g\\u00e9n-2"}, "x": 1.50 }'
        response = post(
            receiver,
            body,
            headers={
                "authorization": "Bearer hunter2",
                "cookie": "session=abc",
                "user-agent": "t1",
            },
        )
        assert response.status_code == 202
        [delivery] = deliveries(migrated_engine)
        assert delivery["body"] == body
        assert delivery["body_size"] == len(body)
        headers = delivery["headers"]
        assert isinstance(headers, dict)
        assert headers[SIGNATURE_HEADER.lower()] == signed_headers(body)[SIGNATURE_HEADER]
        assert headers["user-agent"] == "t1"
        assert "authorization" not in headers
        assert "cookie" not in headers
        assert delivery["remote_addr"] == "127.0.0.1"
        assert delivery["duplicate"] is False
        assert events(migrated_engine)[0]["resource_id"] == "gén-2"

    def test_unknown_event_type_is_accepted_and_ignored(
        self, receiver: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """An event type the upstream added later is stored as ignored and not enqueued."""
        response = post(receiver, envelope("generation.archived", "gen-9"))
        assert response.status_code == 202
        [event] = events(migrated_engine)
        assert event["status"] == "ignored"
        assert enqueued_event_ids(redis_url) == []

    def test_older_secret_is_accepted_recorded_and_counted(
        self, receiver: TestClient, migrated_engine: Engine
    ) -> None:
        """During rotation an older secret verifies; the delivery records which one matched."""
        assert post(receiver, envelope(resource_id="new-one")).status_code == 202
        assert post(receiver, envelope(resource_id="old-one"), OLD_SECRET).status_code == 202
        fingerprints = {d["secret_fingerprint"] for d in deliveries(migrated_engine)}
        assert len(fingerprints) == 2
        metrics = receiver.get("/metrics").text
        assert 'voicehook_webhook_older_secret_matches_total{secret_index="1"} 1.0' in metrics


class TestDuplicates:
    def test_same_event_twice_is_one_event_two_deliveries(
        self, receiver: TestClient, migrated_engine: Engine, redis_url: str
    ) -> None:
        """A redelivery answers 200 duplicate with the same id and is never enqueued again."""
        first = post(receiver, envelope(resource_id="gen-dup"))
        second = post(receiver, envelope(resource_id="gen-dup"))
        assert first.status_code == 202
        assert second.status_code == 200
        assert second.json() == {"status": "duplicate", "eventId": first.json()["eventId"]}
        assert len(events(migrated_engine)) == 1
        assert [d["duplicate"] for d in deliveries(migrated_engine)] == [False, True]
        wait_for(lambda: enqueued_event_ids(redis_url) == [first.json()["eventId"]])

    def test_same_event_with_a_new_timestamp_is_a_duplicate(
        self, receiver: TestClient, migrated_engine: Engine
    ) -> None:
        """Dedup is semantic (event and data.id), so a resend hours later is still a duplicate."""
        one = orjson.dumps(
            {"event": "generation.failed", "timestamp": "2025-01-01T00:00:00Z", "data": {"id": "g"}}
        )
        two = orjson.dumps(
            {"event": "generation.failed", "timestamp": "2025-01-01T05:00:00Z", "data": {"id": "g"}}
        )
        assert post(receiver, one).status_code == 202
        assert post(receiver, two).status_code == 200
        assert len(events(migrated_engine)) == 1


class TestRejected:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {SIGNATURE_HEADER: "sha256=nothex"},
            {SIGNATURE_HEADER: "sha256=" + "0" * 64},
            {SIGNATURE_HEADER: "md5=" + "0" * 32},
        ],
    )
    def test_bad_signatures_are_401_and_store_nothing(
        self, receiver: TestClient, migrated_engine: Engine, headers: dict[str, str]
    ) -> None:
        """Missing, malformed or wrong signatures are refused; nothing is parsed or stored."""
        response = receiver.post(WEBHOOK, content=envelope(), headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_signature"}
        assert events(migrated_engine) == []
        assert deliveries(migrated_engine) == []

    @pytest.mark.parametrize(
        "body",
        [b"not json", b"[]", b'{"data": {}}', b'{"event": "generation.ready", "data": 5}'],
    )
    def test_signed_garbage_is_400(
        self, receiver: TestClient, migrated_engine: Engine, body: bytes
    ) -> None:
        """A correctly signed body that is not an envelope is an invalid payload."""
        response = post(receiver, body)
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_payload"}
        assert events(migrated_engine) == []

    def test_declared_oversize_body_is_refused_before_it_is_read(
        self, database_url: str, redis_url: str, migrated_engine: Engine
    ) -> None:
        """A 1 GB Content-Length is answered 413 after at most the cap has been sent."""
        with (
            served_receiver(make_settings(database_url, redis_url)) as url,
            socket.create_connection(host_and_port(url), timeout=10) as sock,
        ):
            sock.sendall(
                f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"{SIGNATURE_HEADER}: sha256={'0' * 64}\r\n"
                f"Content-Length: {1024**3}\r\n\r\n".encode()
                + b"x" * 1024
            )
            answer = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert b'{"error":"payload_too_large"}' in answer

    def test_streamed_oversize_body_is_refused_at_the_cap(
        self, database_url: str, redis_url: str, migrated_engine: Engine
    ) -> None:
        """A chunked body with no length is cut off once it passes WEBHOOK_MAX_BODY_BYTES."""
        settings = make_settings(database_url, redis_url, webhook_max_body_bytes=4096)
        with served_receiver(settings) as url:
            status_line, sent = stream_chunked_until_answered(url, limit=10 * 1024**2)
            assert status_line.startswith(b"HTTP/1.1 413")
            assert sent < 1024**2
            with http_client(url) as client:
                assert post(client, envelope(resource_id="small")).status_code == 202
        assert len(events(migrated_engine)) == 1

    def test_stale_timestamp_is_400_when_the_window_is_on(
        self, database_url: str, redis_url: str, migrated_engine: Engine
    ) -> None:
        """With WEBHOOK_TOLERANCE_SECONDS set, an old body timestamp is refused."""
        settings = make_settings(database_url, redis_url, webhook_tolerance_seconds=300)
        with receiver_client(settings) as client:
            assert post(client, envelope(resource_id="old")).status_code == 400
        assert events(migrated_engine) == []


def host_and_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def stream_chunked_until_answered(url: str, limit: int) -> tuple[bytes, int]:
    """Send a chunked body 1 KiB at a time until the server answers; the answer and bytes sent."""
    sent = 0
    with socket.create_connection(host_and_port(url), timeout=10) as sock:
        sock.sendall(
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"{SIGNATURE_HEADER}: sha256={'0' * 64}\r\n\r\n".encode()
        )
        while sent < limit:
            readable, _, _ = select.select([sock], [], [], 0.001)
            if readable:
                return read_response(sock), sent
            try:
                sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
            except OSError:
                break
            sent += 1024
        return read_response(sock), sent


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it has sent a whole small response or closed."""
    answer = b""
    while b"}" not in answer:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
    return answer


class TestRemoteAddress:
    @pytest.mark.parametrize("trusted", ["127.0.0.1", "10.9.9.9"])
    def test_forwarded_for_is_honoured_only_from_trusted_proxies(
        self, database_url: str, redis_url: str, migrated_engine: Engine, trusted: str
    ) -> None:
        """X-Forwarded-For names the client only when the peer is a trusted proxy."""
        spoof = {"x-forwarded-for": "203.0.113.9"}
        settings = make_settings(database_url, redis_url)
        with (
            served_receiver(settings, proxy_headers=True, forwarded_allow_ips=trusted) as url,
            http_client(url) as client,
        ):
            assert post(client, envelope(), headers=spoof).status_code == 202
        [address] = [d["remote_addr"] for d in deliveries(migrated_engine)]
        assert address == ("203.0.113.9" if trusted == "127.0.0.1" else "127.0.0.1")


class TestOperationalEndpoints:
    def test_health_ready_metrics_and_request_id(self, receiver: TestClient) -> None:
        """healthz and readyz answer, metrics count outcomes, and the request id is echoed."""
        assert receiver.get("/healthz").json() == {"status": "ok"}
        ready = receiver.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "database": "ok",
            "broker": "ok",
            "writer": "ok",
        }
        response = post(receiver, envelope(), headers={"x-request-id": "router-abc-123"})
        assert response.headers["x-request-id"] == "router-abc-123"
        generated = receiver.get("/healthz").headers["x-request-id"]
        assert len(generated) == 24
        assert generated != receiver.get("/healthz").headers["x-request-id"]
        post(receiver, envelope())
        receiver.post(WEBHOOK, content=b"{}")
        metrics = receiver.get("/metrics").text
        assert 'voicehook_webhook_deliveries_total{outcome="accepted"} 1.0' in metrics
        assert 'voicehook_webhook_deliveries_total{outcome="duplicate"} 1.0' in metrics
        assert 'voicehook_webhook_deliveries_total{outcome="invalid_signature"} 1.0' in metrics
        assert 'voicehook_webhook_ack_seconds_count{outcome="accepted"} 1.0' in metrics


# What a process logs does not depend on its database: SQLite only, a process start each.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestProcessLog:
    """The log of a receiver process (`app_from_environment` configures it), read back."""

    def test_refusals_log_one_warning_with_the_request_id(
        self, receiver_process: ServerProcess
    ) -> None:
        """A forged and a malformed delivery each log one `webhook.rejected` with its reason."""
        with http_client(receiver_process.url) as client:
            post(client, envelope(), secret="wrong", headers={"x-request-id": "rq-forged"})
            post(client, b"not json", headers={"x-request-id": "rq-garbled"})
        receiver_process.stop()
        lines = [
            orjson.loads(line)
            for line in receiver_process.log().splitlines()
            if line.startswith("{")
        ]
        rejected = {
            line["request_id"]: line for line in lines if line.get("event") == "webhook.rejected"
        }
        assert set(rejected) == {"rq-forged", "rq-garbled"}
        assert rejected["rq-forged"]["reason"] == "invalid_signature"
        assert rejected["rq-garbled"]["reason"] == "invalid_payload"
        assert {line["level"] for line in rejected.values()} == {"warning"}

    def test_logs_carry_request_and_event_ids_and_no_secret(
        self, receiver_process: ServerProcess
    ) -> None:
        """A duplicate logs one JSON line with both ids; secrets never appear in the log."""
        with http_client(receiver_process.url) as client:
            first = post(client, envelope(resource_id="logged"))
            post(client, envelope(resource_id="logged"), headers={"x-request-id": "rq-1"})
        receiver_process.stop()
        lines = [
            orjson.loads(line)
            for line in receiver_process.log().splitlines()
            if line.startswith("{")
        ]
        duplicate = [line for line in lines if line.get("event") == "webhook.duplicate"]
        assert duplicate[0]["request_id"] == "rq-1"
        assert duplicate[0]["event_id"] == first.json()["eventId"]
        assert duplicate[0]["level"] == "info"
        assert (
            "webhook.accepted" not in receiver_process.log()
        )  # debug level: the row is the record
        assert "whsec_test" not in receiver_process.log()
