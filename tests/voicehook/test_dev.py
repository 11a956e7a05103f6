"""`voicehook dev` from an empty directory: migrates, embeds Redis, serves, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import redis

from config.signing import SIGNATURE_HEADER, compute_signature
from tests.services import free_port, wait_for


def test_dev_boots_from_nothing_and_keeps_its_data(tmp_path: Path) -> None:
    """An empty folder: dev accepts a signed webhook; after Ctrl-C and restart it is a duplicate."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "VPAI_WEBHOOK_SECRETS"}
    }
    body = b'{"event":"generation.ready","data":{"id":"dev-1"}}'

    def run_once() -> httpx.Response:
        process = subprocess.Popen(
            [sys.executable, "-m", "voicehook", "dev", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def ready() -> bool:
                try:
                    return (
                        httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
                    )
                except httpx.HTTPError:
                    return False

            wait_for(ready, timeout=40)
            secret = (tmp_path / "var" / "dev-webhook-secret").read_text().strip()
            return httpx.post(
                f"http://127.0.0.1:{port}/webhooks/voiceproductionai",
                content=body,
                headers={SIGNATURE_HEADER: compute_signature(body, secret.encode())},
            )
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(40) == 0

    first = run_once()
    assert first.status_code == 202
    assert (tmp_path / "var" / "voicehook.db").exists()
    assert (tmp_path / "var" / "redis" / "appendonly.aof").exists()
    second = run_once()
    assert second.status_code == 200
    assert second.json()["eventId"] == first.json()["eventId"]
    assert not list((tmp_path / "var" / "redis").glob("*.sock")) or not _socket_answers(tmp_path)


def _socket_answers(tmp_path: Path) -> bool:
    sock = next((tmp_path / "var" / "redis").glob("*.sock"))
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False
