"""Pre-signed bodies: unique, correctly signed, disjoint between wrk threads."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.bodies import (
    signed_deliveries,
    utc_timestamp,
    webhook_body,
    write_body_files,
)
from config.signing import compute_signature

SECRET = b"whsec_bench_test_secret"


def read_body_file(path: Path) -> list[tuple[str, bytes]]:
    """The (signature, body) pairs of one thread's file, split as the wrk Lua script splits."""
    pairs = []
    for line in path.read_bytes().splitlines():
        signature, body = line.split(b"\t", 1)
        pairs.append((signature.decode(), body))
    return pairs


class TestWebhookBody:
    def test_is_a_generation_ready_envelope(self) -> None:
        """The body is the upstream's shape, with the resource id in `data.id`."""
        document = orjson.loads(webhook_body("gen_1", "2025-01-01T00:00:00.000Z"))
        assert document == {
            "event": "generation.ready",
            "timestamp": "2025-01-01T00:00:00.000Z",
            "data": {"id": "gen_1"},
        }


class TestSignedDeliveries:
    def test_signature_matches_openssl(self) -> None:
        """An independent HMAC-SHA256 (openssl) agrees with the signature header."""
        signature, body = next(signed_deliveries("p", 0, 1, SECRET, "2025-01-01T00:00:00.000Z"))
        completed = subprocess.run(
            ["openssl", "dgst", "-sha256", "-hmac", SECRET.decode(), "-r"],
            input=body,
            capture_output=True,
            check=True,
        )
        assert signature == "sha256=" + completed.stdout.split()[0].decode()

    def test_every_body_signed_and_unique(self) -> None:
        """Each body carries its own resource id and its own correct signature."""
        pairs = list(signed_deliveries("p", 5, 100, SECRET, "2025-01-01T00:00:00.000Z"))
        ids = [orjson.loads(body)["data"]["id"] for _, body in pairs]
        assert len(set(ids)) == 100
        assert ids[0] == "p-000000005"
        assert all(sig == compute_signature(body, SECRET) for sig, body in pairs)


class TestWriteBodyFiles:
    def test_threads_get_disjoint_files(self, tmp_path: Path) -> None:
        """One file per thread, no resource id in two of them, every line signed."""
        write_body_files(tmp_path, "run", threads=3, per_thread=50, secret=SECRET)
        files = sorted(tmp_path.glob("*.tsv"))
        assert [path.name for path in files] == ["1.tsv", "2.tsv", "3.tsv"]
        ids: set[str] = set()
        for path in files:
            pairs = read_body_file(path)
            assert len(pairs) == 50
            assert all(sig == compute_signature(body, SECRET) for sig, body in pairs)
            ids.update(orjson.loads(body)["data"]["id"] for _, body in pairs)
        assert len(ids) == 150

    def test_lines_hold_no_stray_separators(self, tmp_path: Path) -> None:
        """Exactly one tab per line, so the Lua script splits every line correctly."""
        write_body_files(tmp_path, "run", threads=1, per_thread=20, secret=SECRET)
        lines = (tmp_path / "1.tsv").read_bytes().splitlines()
        assert all(line.count(b"\t") == 1 for line in lines)


class TestUtcTimestamp:
    def test_upstream_format(self) -> None:
        """ISO 8601 in UTC with milliseconds and a `Z`."""
        moment = datetime(2025, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)
        assert utc_timestamp(moment) == "2025-03-04T05:06:07.891Z"
