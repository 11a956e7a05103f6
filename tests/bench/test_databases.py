"""The bench's databases: isolated, migrated, and left behind as they were found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import databases
from bench.errors import BenchError
from config.settings import normalise_database_url


class TestWithSearchPath:
    def test_adds_search_path_option(self) -> None:
        """The schema goes first on the search path through libpq `options`."""
        url = databases.with_search_path("postgresql://postgres@127.0.0.1:5432/test", "bench_x")
        assert url == "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_x"

    def test_keeps_existing_options(self) -> None:
        """Options already in the URL are kept, the search path appended."""
        url = databases.with_search_path("postgresql://h/db?options=-cwork_mem%3D8MB", "bench_x")
        assert "options=-cwork_mem%3D8MB+-csearch_path%3Dbench_x" in url


class TestPrepare:
    def test_migrates_a_fresh_sqlite_file(self, tmp_path: Path) -> None:
        """A fresh file gets the schema and reads as empty."""
        url = databases.sqlite_url(tmp_path)
        databases.prepare(url)
        stored = databases.read_stored(url)
        assert (stored.events, stored.deliveries) == (0, 0)

    def test_refuses_a_database_with_events(self, tmp_path: Path) -> None:
        """Existing events would make the counts lie, so the bench will not run on them."""
        url = databases.sqlite_url(tmp_path)
        databases.prepare(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO events (id, type, dedup_key, status, attempts, received_at,"
                    " updated_at) VALUES ('e', 't', 'k', 'received', 0,"
                    " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
                )
            )
        engine.dispose()
        with pytest.raises(BenchError, match="already holds 1 events"):
            databases.prepare(url)


@pytest.mark.postgres
def test_postgres_schema_is_dropped_afterwards() -> None:
    """The bench works in a schema of its own and removes it when done."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("VOICEHOOK_REQUIRE_SERVICES"):
            pytest.fail("TEST_DATABASE_URL is required (VOICEHOOK_REQUIRE_SERVICES is set)")
        pytest.skip("TEST_DATABASE_URL is not set")
    with databases.postgres_schema(url) as bench_url:
        databases.prepare(bench_url)
        assert databases.read_stored(bench_url).events == 0
        schema = bench_url.rsplit("%3D", 1)[1]
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"), {"name": schema}
        ).scalar_one()
    engine.dispose()
    assert left == 0
