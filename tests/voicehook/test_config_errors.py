"""Bad configuration ends as one line naming the variable and what it accepts, exit 2."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from config.errors import ConfigurationError
from config.settings import Settings, load_settings
from config.settings_errors import describe_settings_error
from tests.cli_in_process import Ran, run_cli
from tests.conftest import SECRET

VOICE = "6f1c2a8e-5b0d-4c7a-9e21-3d4f5a6b7c01"


def voicehook(*args: str, cwd: Path, **env: str) -> Ran:
    """The CLI in this process, in `cwd`, with `env` (the user's app settings are kept out of
    every test: tests/conftest.py)."""
    with contextlib.chdir(cwd):
        return run_cli(*args, env=env)


def voicehook_process(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The console script in a clean environment (nothing of the user's but PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "voicehook", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line(result: Ran, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip()
    assert "\n" not in message, message
    assert "Traceback" not in message
    for needle in needles:
        assert needle in message
    return message


class TestSettingsMessages:
    def test_names_the_variable_and_what_it_accepts(self) -> None:
        """WEBHOOK_MAX_BODY_BYTES=abc: the variable (not the field), the value, the type."""
        with pytest.raises(ValidationError) as caught:
            Settings.model_validate({"webhook_max_body_bytes": "abc", "log_format": "xml"})
        message = describe_settings_error(caught.value)
        assert "WEBHOOK_MAX_BODY_BYTES='abc' is not valid: expected a whole number" in message
        assert "LOG_FORMAT='xml' is not valid: expected one of json or console" in message
        assert "\n" not in message

    def test_never_repeats_a_secret_or_a_password(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A bad URL is shown without its password."""
        monkeypatch.setenv("DATABASE_URL", "postgress://app:hunter2@db/app")
        with pytest.raises(ConfigurationError) as caught:
            load_settings()
        assert "DATABASE_URL='postgress://app:***@db/app'" in str(caught.value)
        assert "hunter2" not in str(caught.value)

    def test_an_empty_entry_in_the_secrets_is_kept_and_refused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`new,,old` is not silently `new,old`: the empty secret is refused."""
        monkeypatch.setenv("VPAI_WEBHOOK_SECRETS", "new,,old")
        with pytest.raises(ConfigurationError, match="empty secret"):
            Settings().webhook_secret_values()


class TestCommands:
    def test_help_works_whatever_the_environment(self, tmp_path: Path) -> None:
        """Settings are read when a command runs: WEB_CONCURRENCY=two cannot break --help."""
        for args in (("--help",), ("web", "--help")):
            result = voicehook(*args, cwd=tmp_path, WEB_CONCURRENCY="two")
            assert result.returncode == 0, result.stderr
            assert "Usage" in result.stdout

    @pytest.mark.parametrize(
        ("variable", "value", "command", "accepts"),
        [
            ("WEB_CONCURRENCY", "two", ("web",), "a whole number"),
            ("DATABASE_URL", "postgress://app:pw@db/app", ("jobs", "list"), "postgresql://"),
            ("REDIS_URL", "localhost:6379", ("status",), "redis://host:6379"),
            ("DATABASE_TIMEOUT_SECONDS", "abc", ("events", "list"), "a number"),
            ("WEBHOOK_MAX_BODY_BYTES", "abc", ("web",), "a whole number"),
        ],
    )
    def test_a_bad_variable_is_one_line_and_exit_2(
        self, tmp_path: Path, variable: str, value: str, command: tuple[str, ...], accepts: str
    ) -> None:
        """Each bad variable: one line naming it and what it accepts, no traceback."""
        result = voicehook(*command, cwd=tmp_path, **{variable: value})
        assert_one_line(result, variable, accepts)

    def test_a_read_ignores_what_it_does_not_use(self, tmp_path: Path) -> None:
        """A read takes the database's settings only: REDIS_URL=localhost:6379, wrong for
        the commands that enqueue, does not stop `events list` (nor its start-up time)."""
        url = f"sqlite:///{tmp_path / 'x.db'}"
        assert voicehook("db", "upgrade", cwd=tmp_path, DATABASE_URL=url).returncode == 0
        result = voicehook(
            "events", "list", cwd=tmp_path, DATABASE_URL=url, REDIS_URL="localhost:6379"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "no events yet"

    def test_an_unmigrated_database_says_to_upgrade(self, tmp_path: Path) -> None:
        """A database without the schema: run `voicehook db upgrade`."""
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        result = voicehook("jobs", "list", cwd=tmp_path, DATABASE_URL=url)
        assert_one_line(result, "DATABASE_URL", "run `voicehook db upgrade`")

    def test_a_missing_postgres_database_is_one_line(self, tmp_path: Path) -> None:
        """A PostgreSQL database that does not exist: the server's reason, in one line."""
        server = os.environ.get("TEST_DATABASE_URL")
        if not server:
            pytest.skip("TEST_DATABASE_URL is not set")
        url = make_url(server).set(database="voicehook_no_such_database")
        rendered = url.render_as_string(hide_password=False)
        result = voicehook("jobs", "list", cwd=tmp_path, DATABASE_URL=rendered)
        assert_one_line(result, "DATABASE_URL", 'database "voicehook_no_such_database"')

    def test_sqlite_creates_only_its_own_folder(self, tmp_path: Path) -> None:
        """The file's folder is made when its parent exists; a deeper tree is an error."""
        deep = tmp_path / "no" / "such" / "x.db"
        result = voicehook("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{deep}")
        assert_one_line(result, "DATABASE_URL", "does not exist")
        assert not (tmp_path / "no").exists()
        shallow = tmp_path / "data" / "x.db"
        result = voicehook("db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{shallow}")
        assert result.returncode == 0, result.stderr
        assert shallow.exists()

    def test_a_bad_format_is_one_line_naming_the_option(self, tmp_path: Path) -> None:
        """`jobs submit --format ogg`: the option and its choices, not a pydantic dump."""
        url = f"sqlite:///{tmp_path / 'x.db'}"
        result = voicehook(
            "jobs", "submit", "--customer", "acme", "--voice", VOICE, "--script", "Hi",
            "--format", "ogg", cwd=tmp_path, DATABASE_URL=url,
        )  # fmt: skip
        message = assert_one_line(result, "--format='ogg'", "mp3 or wav")
        assert "pydantic" not in message

    def test_web_refuses_an_empty_secret_at_start_up(self, tmp_path: Path) -> None:
        """VPAI_WEBHOOK_SECRETS=new,,old: `voicehook web` exits 2 naming the empty entry."""
        result = voicehook(
            "web", cwd=tmp_path, VPAI_WEBHOOK_SECRETS=f"{SECRET},,old",
            REDIS_URL="redis://127.0.0.1:1/0", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        )  # fmt: skip
        assert_one_line(result, "VPAI_WEBHOOK_SECRETS", "empty secret")

    def test_doctor_reports_a_bad_variable_and_goes_on(self, tmp_path: Path) -> None:
        """doctor, as a process: a FAIL settings line naming the variable, the other checks
        still run, and nothing on stderr (no traceback, no alembic chatter)."""
        result = voicehook_process(
            "doctor", cwd=tmp_path, REDIS_URL="localhost:6379", WEB_CONCURRENCY="two",
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", AUDIO_DIR=str(tmp_path / "audio"),
            COLUMNS="200",
        )  # fmt: skip
        assert result.returncode == 2, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        [settings_line] = [line for line in lines if " settings " in line]
        assert settings_line.startswith("FAIL")
        assert "REDIS_URL='localhost:6379'" in settings_line
        assert "WEB_CONCURRENCY='two'" in settings_line
        assert any(line.startswith("skip broker") for line in lines)
        assert any(line.startswith("ok   storage") for line in lines)
        assert "Traceback" not in result.stderr
        assert "alembic" not in result.stderr.lower()
