"""Migrations build exactly the schema the models describe, up and down, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from config.database import make_engine
from records.migrate import current_revision, downgrade, head_revision, upgrade
from records.schema import target_metadata
from tests.conftest import make_settings


class TestMigrations:
    def test_upgrade_matches_the_models(self, database_url: str) -> None:
        """After `upgrade head` there is no difference between the database and the models."""
        engine = make_engine(make_settings(database_url))
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), target_metadata)
        assert diff == []

    def test_downgrade_to_base_and_up_again(self, database_url: str) -> None:
        """Every migration can be undone and redone."""
        engine = make_engine(make_settings(database_url))
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert "events" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert {"events", "deliveries"} <= set(inspect(engine).get_table_names())
