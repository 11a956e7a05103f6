"""The CLI's tables and `show` output at an ordinary width: short ids that `show` takes,
refs not UUIDs, human times, clear empty results and filter errors, clean help text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine, update

from records.events import EVENTS
from sandbox.voices import DEFAULT_VOICE
from tests.ops.conftest import cli_env, run_cli, store
from tests.receiver.conftest import envelope
from voicehook.cli import VoicehookGroup
from voicehook.tables import human_time, plain_value, short_id

WIDTH = 100
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def lines_fit(text: str) -> None:
    for line in text.splitlines():
        assert len(line) <= WIDTH, line


class TestPresentation:
    @pytest.mark.parametrize(
        ("ago", "shown"),
        [(timedelta(seconds=5), "5s ago"), (timedelta(minutes=7), "7m ago"),
         (timedelta(hours=30), "30h ago"), (timedelta(days=9), "2025-12-24")],
    )  # fmt: skip
    def test_times_read_as_ages(self, ago: timedelta, shown: str) -> None:
        """Recent times as ages, older ones as dates."""
        assert human_time(NOW - ago, NOW) == shown

    def test_values_are_not_python_reprs(self) -> None:
        """Settings as key=value, None as a dash, flags as yes/no."""
        assert plain_value({"speed": 1.0, "pitchSemitones": 0}) == "speed=1.0 pitchSemitones=0"
        assert plain_value(None) == "-"
        assert plain_value(True) == "yes"

    def test_ids_are_cut_to_eight(self) -> None:
        """Short enough for a table, long enough to be unique and typed back."""
        assert short_id("b3432ab5-0d1e-4c7a-9e21-3d4f5a6b7c01") == "b3432ab5"


class TestJobsTables:
    def test_list_fits_shows_refs_and_show_takes_the_short_id(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """`jobs list` fits 100 columns with the customer's ref; its short id works in show."""
        env = cli_env(database_url) | {"COLUMNS": str(WIDTH)}
        assert run_cli("customers", "add", "acme-corp", "Acme", env=env).returncode == 0
        submitted = run_cli(
            "jobs", "submit", "--customer", "acme-corp", "--voice", DEFAULT_VOICE.id,
            "--script", "Hello", "--format", "wav", "--json", env=env,
        )  # fmt: skip
        job_id = orjson.loads(submitted.stdout)["id"]
        listed = run_cli("jobs", "list", env=env)
        assert listed.returncode == 0
        lines_fit(listed.stdout)
        assert "acme-corp" in listed.stdout
        assert job_id[:8] in listed.stdout
        assert job_id not in listed.stdout
        shown = run_cli("jobs", "show", job_id[:8], env=env)
        assert shown.returncode == 0, shown.stderr
        assert job_id in shown.stdout
        assert "None" not in shown.stdout
        assert "{'" not in shown.stdout

    def test_filters_are_validated_and_empty_results_said(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """An unknown status names the valid ones (exit 2); nothing found says so."""
        env = cli_env(database_url)
        bogus = run_cli("jobs", "list", "--status", "bogus", env=env)
        assert bogus.returncode == 2
        assert "unknown status 'bogus'" in bogus.stderr
        assert "retry_wait" in bogus.stderr
        none = run_cli("jobs", "list", "--status", "ready", env=env)
        assert none.returncode == 0
        assert none.stdout.strip() == "no jobs match"


class TestEventsTables:
    def test_list_fits_100_columns_with_every_header(
        self, migrated_engine: Engine, database_url: str
    ) -> None:
        """A long error wraps in its column; no header collapses; show takes the short id."""
        event_id = store(migrated_engine, envelope(resource_id="gen-" + "x" * 40))
        with migrated_engine.begin() as conn:
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.id == event_id)
                .values(status="failed", last_error="download failed: " + "very long " * 20)
            )
        env = cli_env(database_url) | {"COLUMNS": str(WIDTH)}
        listed = run_cli("events", "list", env=env)
        assert listed.returncode == 0
        lines_fit(listed.stdout)
        header = listed.stdout.splitlines()[0].split()
        assert header == ["id", "type", "resource", "status", "tries", "deliv.", "received",
                          "error"]  # fmt: skip
        assert "failed" in listed.stdout
        shown = run_cli("events", "show", event_id[:8], env=env)
        assert shown.returncode == 0, shown.stderr
        assert event_id in shown.stdout
        empty = run_cli("events", "list", "--status", "ignored", env=env)
        assert empty.stdout.strip() == "no events match"


class TestHelp:
    @pytest.mark.parametrize("name", ["events", "jobs", "sandbox", "web", "replay", "dev"])
    def test_help_has_no_type_metavars_beside_flags(self, name: str) -> None:
        """No `<bool>` beside a flag, no `<list[str]>` beside a repeatable option."""
        group = VoicehookGroup.entries
        assert name in group
        args = [name, "--help"] if name not in ("events", "jobs") else [name, "list", "--help"]
        result = run_cli(*args, env={"COLUMNS": str(WIDTH)})
        assert result.returncode == 0
        options = [line for line in result.stdout.splitlines() if line.startswith("│ --")]
        assert options
        assert not [line for line in options if "<bool>" in line or "<list[" in line]
