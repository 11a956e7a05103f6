"""The processes the Procfile starts, as processes: `web` with two workers serves and stops;
`db` migrates. Their refusals, and serving in one process, are in test_serve_commands.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from records.migrate import head_revision
from tests.conftest import SECRET
from tests.receiver.conftest import envelope, post
from tests.services import ROOT, ServerProcess, answers_health, free_port
from voicehook.child_process import ChildProcess


def voicehook(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicehook", *args],
        check=False,
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class TestWebCommand:
    def test_migrates_serves_and_stops_on_sigterm(
        self, sqlite_url: str, redis_url: str, tmp_path: Path
    ) -> None:
        """`db upgrade` then `web` on $PORT with two workers: accepts a webhook, exits cleanly."""
        port = free_port()
        env = {
            "DATABASE_URL": sqlite_url,
            "REDIS_URL": redis_url,
            "VPAI_WEBHOOK_SECRETS": SECRET,
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
        }
        assert voicehook("db", "upgrade", env=env).returncode == 0
        child = ChildProcess.start(
            [sys.executable, "-m", "voicehook", "web"],
            name="voicehook web",
            env={**os.environ, **env},
            cwd=ROOT,
            log_path=tmp_path / "web.log",
            grace_seconds=30,
        )
        server = ServerProcess(f"http://127.0.0.1:{port}", child)
        try:
            child.wait_until_ready(lambda: answers_health(server.url), timeout=180)
            with httpx.Client(base_url=server.url, timeout=30) as client:
                assert post(client, envelope(resource_id="via-web")).status_code == 202
                assert client.get("/readyz").status_code == 200
        finally:
            assert child.stop() == 0, server.log()


class TestDbCommand:
    def test_upgrade_reports_the_revision(self, sqlite_url: str) -> None:
        """`voicehook db upgrade` migrates and says where the schema is."""
        result = voicehook("db", "upgrade", env={"DATABASE_URL": sqlite_url})
        assert result.returncode == 0, result.stderr
        head = head_revision()
        assert f"database at revision {head}" in result.stdout
        current = voicehook("db", "current", env={"DATABASE_URL": sqlite_url})
        assert f"current={head} head={head}" in current.stdout
