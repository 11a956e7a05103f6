"""Settings from the environment: names, defaults, parsing and refusals."""

from __future__ import annotations

import pytest

from config.database_settings import read_database_settings
from config.errors import ConfigurationError
from config.settings import DEFAULT_DATABASE_URL, Settings, normalise_database_url


class TestSettings:
    def test_defaults_are_the_embedded_ones(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With nothing set, the database is SQLite under ./var and Redis is unset."""
        for name in ("DATABASE_URL", "REDIS_URL", "VPAI_WEBHOOK_SECRETS", "LOG_FORMAT"):
            monkeypatch.delenv(name, raising=False)
        settings = Settings()
        assert settings.database_url == DEFAULT_DATABASE_URL
        assert settings.redis_url is None
        assert settings.webhook_max_body_bytes == 256 * 1024
        assert settings.webhook_tolerance_seconds is None
        assert settings.log_format == "json"

    def test_secrets_are_comma_separated_newest_first(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """VPAI_WEBHOOK_SECRETS splits on commas, keeps order, trims blanks."""
        monkeypatch.setenv("VPAI_WEBHOOK_SECRETS", " new , old ")
        assert Settings().webhook_secret_values() == [b"new", b"old"]

    def test_secrets_never_show_in_repr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Secrets are SecretStr: printing the settings does not print them."""
        monkeypatch.setenv("VPAI_WEBHOOK_SECRETS", "whsec_supersecret")
        monkeypatch.setenv("VPAI_API_KEY", "vk_live_supersecret")
        assert "supersecret" not in repr(Settings())

    def test_storage_names_and_the_bucket_secret(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """STORAGE_URL, S3_ENDPOINT_URL and AWS_* are read under those names; the secret key is
        hidden from repr and redacted from logs like every other secret; empty means unset."""
        monkeypatch.setenv("STORAGE_URL", "s3://bucket/prefix")
        monkeypatch.setenv("S3_ENDPOINT_URL", "https://r2.example")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-supersecret")
        monkeypatch.setenv("AWS_REGION", "")
        settings = Settings()
        assert (settings.storage_url, settings.s3_endpoint_url) == (
            "s3://bucket/prefix",
            "https://r2.example",
        )
        assert (settings.aws_access_key_id, settings.aws_region) == ("AKIDEXAMPLE", None)
        assert "supersecret" not in repr(settings)
        assert "aws-supersecret" in settings.secret_strings()
        monkeypatch.setenv("STORAGE_URL", "")
        assert Settings().storage_url is None

    def test_no_secret_is_a_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without a webhook secret the receiver cannot start, and says what to set."""
        monkeypatch.delenv("VPAI_WEBHOOK_SECRETS", raising=False)
        with pytest.raises(ConfigurationError, match="VPAI_WEBHOOK_SECRETS is not set"):
            Settings().webhook_secret_values()

    def test_an_empty_secret_is_refused(self) -> None:
        """A whitespace-only secret would verify forged bodies; it is refused."""
        settings = Settings.model_validate({"vpai_webhook_secrets": ["good", "  "]})
        with pytest.raises(ConfigurationError, match="empty secret"):
            settings.webhook_secret_values()

    @pytest.mark.parametrize("value", ["0", "off", ""])
    def test_tolerance_zero_means_off(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        """WEBHOOK_TOLERANCE_SECONDS=0 (or off) disables the freshness window."""
        monkeypatch.setenv("WEBHOOK_TOLERANCE_SECONDS", value)
        assert Settings().webhook_tolerance_seconds is None

    def test_invalid_values_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A nonsensical value is a validation error naming the variable."""
        monkeypatch.setenv("WEBHOOK_MAX_BODY_BYTES", "-5")
        with pytest.raises(ValueError, match="webhook_max_body_bytes"):
            Settings()


class TestDatabaseUrl:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
            ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
            ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
            ("sqlite:///./var/x.db", "sqlite:///./var/x.db"),
        ],
    )
    def test_paas_urls_map_to_psycopg(self, given: str, expected: str) -> None:
        """The `postgres://` URLs PaaS platforms hand out use psycopg 3."""
        assert normalise_database_url(given) == expected


class TestDatabaseSettings:
    """`read_database_settings`: the reads' two settings, as `Settings` reads them."""

    def test_reads_what_settings_reads(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The same names (in any case), the same normalised URL, the same timeout."""
        monkeypatch.setenv("database_url", "postgres://u@h/db")
        monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "2.5")
        read = read_database_settings()
        full = Settings()
        assert (read.database_url, read.database_timeout_seconds) == (
            full.database_url,
            full.database_timeout_seconds,
        )
        assert read.database_url == "postgresql+psycopg://u@h/db"
        assert read.database_timeout_seconds == 2.5

    def test_defaults(self) -> None:
        """Nothing set: SQLite under ./var, a 5 s timeout."""
        read = read_database_settings({})
        assert (read.database_url, read.database_timeout_seconds) == (DEFAULT_DATABASE_URL, 5.0)

    def test_ignores_the_other_variables(self) -> None:
        """A bad variable the database does not use cannot stop a read."""
        read = read_database_settings({"WEB_CONCURRENCY": "two", "REDIS_URL": "localhost:6379"})
        assert read.database_url == DEFAULT_DATABASE_URL

    @pytest.mark.parametrize(
        ("environ", "expected"),
        [
            (
                {"DATABASE_TIMEOUT_SECONDS": "0"},
                "DATABASE_TIMEOUT_SECONDS='0' is not valid: expected a number greater than 0",
            ),
            (
                {"DATABASE_URL": "postgress://app:pw@db/app"},
                "DATABASE_URL='postgress://app:***@db/app' is not valid: expected a URL starting",
            ),
        ],
    )
    def test_a_bad_value_is_the_settings_one_line(
        self, environ: dict[str, str], expected: str
    ) -> None:
        """The one line `Settings` gives: the variable, its value (no password), what it takes."""
        with pytest.raises(ConfigurationError) as caught:
            read_database_settings(environ)
        assert str(caught.value).startswith(expected)
        assert "\n" not in str(caught.value)
