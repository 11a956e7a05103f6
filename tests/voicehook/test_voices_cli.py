"""`voicehook voices sync`, in this process against the sandbox over real HTTP: the upstream's
voices listed (as JSON and as a table), and the settings it cannot run without refused."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine

from sandbox.voices import DEFAULT_VOICE
from tests.cli_in_process import run_cli
from tests.processors.flow import Sandbox


def sync_env(sqlite_url: str, redis_url: str, vpai: Sandbox) -> dict[str, str]:
    return {
        "DATABASE_URL": sqlite_url,
        "REDIS_URL": redis_url,
        "VPAI_API_BASE_URL": vpai.server.api_base_url,
        "VPAI_API_KEY": vpai.server.api_key,
        "COLUMNS": "200",
    }


class TestVoicesSync:
    def test_lists_the_upstream_voices(
        self, sqlite_url: str, sqlite_engine: Engine, redis_url: str, vpai: Sandbox
    ) -> None:
        """One GET /v1/voices: as JSON with the clones marked ready (none here), and as a table."""
        env = sync_env(sqlite_url, redis_url, vpai)
        as_json = run_cli("voices", "sync", "--json", env=env)
        assert as_json.returncode == 0, as_json.stderr
        document = orjson.loads(as_json.stdout)
        assert DEFAULT_VOICE.id in {voice["id"] for voice in document["voices"]}
        assert document["clonesMarkedReady"] == 0
        table = run_cli("voices", "sync", env=env)
        assert table.returncode == 0, table.stderr
        assert DEFAULT_VOICE.id in table.stdout
        assert "0 local clone(s) marked ready" in table.stdout

    def test_without_an_api_key_is_exit_2(
        self, sqlite_url: str, sqlite_engine: Engine, redis_url: str, vpai: Sandbox
    ) -> None:
        env = sync_env(sqlite_url, redis_url, vpai) | {"VPAI_API_KEY": ""}
        ran = run_cli("voices", "sync", env=env)
        assert ran.returncode == 2
        assert "voicehook voices sync: VPAI_API_KEY is not set" in ran.stderr
