"""Twelve-factor settings, read from the environment once per process and passed down."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.database_settings import (
    DEFAULT_DATABASE_URL,
    DatabaseSettings,
    normalise_database_url,
)
from config.errors import ConfigurationError
from config.settings_errors import describe_settings_error

# Imported from here by callers that know them as settings.
__all__ = ["DEFAULT_DATABASE_URL", "Settings", "load_settings", "normalise_database_url"]

REDIS_SCHEMES = ("redis", "rediss", "unix")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _split_csv_keeping_empty(value: object) -> object:
    # An empty entry (`new,,old`) is kept so that it can be refused, not silently dropped.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")] if value.strip() else []
    return value


class Settings(BaseSettings, DatabaseSettings):
    """Everything a voicehook process can be told, with its environment variable name (the
    database's two first, from `DatabaseSettings`)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    redis_url: str | None = None

    vpai_api_base_url: str = "https://api.voiceproductionai.com/v1"
    vpai_api_key: SecretStr | None = None
    vpai_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    audio_dir: Path = Path("./var/audio")
    # Object storage for audio and voice samples (unset: the local store under AUDIO_DIR).
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_region: str | None = None
    storage_timeout_seconds: float = Field(default=30.0, gt=0)
    audio_url_lifetime_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    admin_token: SecretStr | None = None
    # How long a dashboard login lasts (the signed cookie's expiry), see README "Dashboard".
    admin_session_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=1, ge=1, le=64)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Traces (the `otel` extra): the OTLP/HTTP collector's base URL; unset, traces are off.
    otel_exporter_otlp_endpoint: str | None = None

    webhook_max_body_bytes: int = Field(default=256 * 1024, gt=0)
    webhook_tolerance_seconds: int | None = Field(default=None, gt=0)
    web_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    web_header_timeout_seconds: float = Field(default=5.0, gt=0)
    web_body_timeout_seconds: float = Field(default=10.0, gt=0)
    web_keepalive_timeout_seconds: int = Field(default=5, ge=1)
    web_max_connections: int = Field(default=1024, ge=1)
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"]
    )

    vpai_rate_limit: int = Field(default=60, ge=1)
    vpai_rate_window_seconds: float = Field(default=60.0, gt=0)
    vpai_rate_margin_seconds: float = Field(default=1.0, ge=0)
    vpai_workspace: str | None = None
    vpai_timeout_seconds: float = Field(default=15.0, gt=0)
    # How long a call waits for a slot of the budget before it is postponed instead.
    vpai_budget_wait_seconds: float = Field(default=2.0, ge=0)

    job_max_attempts: int = Field(default=3, ge=1)
    job_retry_backoff_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [30.0, 120.0, 600.0]
    )
    download_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    download_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    download_timeout_seconds: float = Field(default=30.0, gt=0)
    download_deadline_seconds: float = Field(default=60.0, gt=0)
    download_min_bytes_per_second: int = Field(default=128 * 1024, gt=0)
    # Waits after failed downloads 1, 2, ... of one generation; one more failure fails it.
    download_retry_backoff_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 300.0]
    )
    reconcile_after_seconds: float = Field(default=600.0, gt=0)
    # Polls of one generation (each wait twice the last) before its job goes to review.
    reconcile_max_polls: int = Field(default=6, ge=1)
    # How long a worker holds an event before another may take it over (its actor's limit).
    event_lease_seconds: float = Field(default=600.0, gt=0)
    broker_heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    worker_processes: int = Field(default=2, ge=1)
    worker_threads: int = Field(default=4, ge=1)

    ingest_max_batch: int = Field(default=256, ge=1, le=5000)
    # Writer processes per web process; 0 picks 1 on SQLite (one write lock) and 2 on PostgreSQL.
    ingest_writers: int = Field(default=0, ge=0, le=32)
    # Commit on a thread of the web process instead: no writer processes (about 60 MB each),
    # for small instances whose memory matters more than peak ingest throughput.
    ingest_inline: bool = False
    sweeper_interval_seconds: float = Field(default=15.0, gt=0)
    sweeper_min_age_seconds: float = Field(default=30.0, ge=0)
    sweeper_batch_size: int = Field(default=500, ge=1)
    sweeper_stuck_after_seconds: float = Field(default=3600.0, gt=0)
    # Longer than a live submission can take (budget wait + one API request): a job
    # `submitting` this long belongs to a worker that died, and its outcome is unknown.
    submitting_lease_seconds: float = Field(default=120.0, gt=0)
    # An unknown outcome no generation was matched to within this long needs an operator.
    submission_review_after_seconds: float = Field(default=1800.0, gt=0)
    # How long the internal API keeps an Idempotency-Key's answer; at least the promised day.
    idempotency_key_hours: float = Field(default=24.0, ge=24.0, le=24.0 * 90)

    # Metrics and alerts, see README "Metrics" and "Alerts".
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr | None = None
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    sweeper_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_queue_gauges: bool = True
    alert_webhook_url: SecretStr | None = None
    alert_event_age_minutes: float = Field(default=15.0, gt=0)
    alert_min_interval_seconds: float = Field(default=300.0, ge=0)
    alert_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("vpai_webhook_secrets", mode="before")
    @classmethod
    def _secrets(cls, value: object) -> object:
        return _split_csv_keeping_empty(value)

    # Notifications to the business's app (Standard Webhooks), see README "Notifications".
    notify_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_secret: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    notify_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    notify_max_attempts: int = Field(default=16, ge=1, le=100)
    notify_retry_base_seconds: float = Field(default=5.0, gt=0)
    notify_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    notify_max_in_flight: int = Field(default=4, ge=1, le=1000)
    notify_flag_after_seconds: float = Field(default=24 * 3600.0, gt=0)
    notify_worker_threads: int = Field(default=8, ge=1, le=256)

    @field_validator(
        "forwarded_allow_ips",
        "download_allowed_hosts",
        "job_retry_backoff_seconds",
        "download_retry_backoff_seconds",
        "notify_urls",
        "notify_secret",
        "notify_allowed_hosts",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("webhook_tolerance_seconds", mode="before")
    @classmethod
    def _zero_means_off(cls, value: object) -> object:
        if value in ("", "0", 0, "off", None):
            return None
        return value

    @field_validator(
        "storage_url",
        "s3_endpoint_url",
        "aws_region",
        "worker_metrics_port",
        "sweeper_metrics_port",
        "metrics_token",
        "alert_webhook_url",
        mode="before",
    )
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.partition("://")[0] not in REDIS_SCHEMES or "://" not in value:
            raise ValueError("a URL like redis://host:6379/0 (rediss:// for TLS, unix:// a socket)")
        return value

    def webhook_secret_values(self) -> list[bytes]:
        """The webhook secrets, newest first, as bytes; refuses to run without a usable one."""
        if not self.vpai_webhook_secrets:
            raise ConfigurationError(
                "VPAI_WEBHOOK_SECRETS is not set: the receiver cannot verify webhooks. "
                "Set it to the endpoint's signing secret (comma-separated, newest first)."
            )
        values = [secret.get_secret_value() for secret in self.vpai_webhook_secrets]
        if any(not value.strip() for value in values):
            raise ConfigurationError(
                "VPAI_WEBHOOK_SECRETS contains an empty secret, which would accept forged "
                "payloads; remove it."
            )
        return [value.encode() for value in values]

    def notify_secret_values(self) -> list[str]:
        """NOTIFY_SECRET's `whsec_` secrets, newest first (all sign during a rotation); refuses
        NOTIFY_URLS without one, and anything that is not a Standard Webhooks secret."""
        values = [secret.get_secret_value() for secret in self.notify_secret]
        if self.notify_urls and not values:
            raise ConfigurationError(
                "NOTIFY_URLS is set but NOTIFY_SECRET is not: notifications must be signed. "
                "Set it to a Standard Webhooks secret (whsec_ followed by base64)."
            )
        for value in values:
            if not _is_standard_webhooks_secret(value):
                raise ConfigurationError(
                    "NOTIFY_SECRET must be whsec_ followed by base64 of at least 16 bytes "
                    "(comma-separated, newest first, during a rotation)."
                )
        return values

    def secret_strings(self) -> list[str]:
        """Every configured secret value, for redaction in logs."""
        found = [s.get_secret_value() for s in [*self.vpai_webhook_secrets, *self.notify_secret]]
        for secret in (
            self.vpai_api_key,
            self.admin_token,
            self.aws_secret_access_key,
            self.metrics_token,
            self.alert_webhook_url,
        ):
            if secret is not None:
                found.append(secret.get_secret_value())
        return [value for value in found if value]


def load_settings() -> Settings:
    """The settings of this process, or a ConfigurationError that is one line naming the
    environment variable at fault and what it accepts."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from None


def _is_standard_webhooks_secret(value: str) -> bool:
    if not value.startswith("whsec_"):
        return False
    raw = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except binascii.Error:
        return False
    return len(key) >= 16
