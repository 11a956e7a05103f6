"""Twelve-factor settings, read from the environment once per process and passed down."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///./var/voicehook.db"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything a voicehook process can be told, with its environment variable name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_url: str | None = None

    vpai_api_base_url: str = "https://api.voiceproductionai.com/v1"
    vpai_api_key: SecretStr | None = None
    vpai_webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    audio_dir: Path = Path("./var/audio")
    admin_token: SecretStr | None = None
    port: int = Field(default=8000, ge=1, le=65535)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    webhook_max_body_bytes: int = Field(default=256 * 1024, gt=0)
    webhook_tolerance_seconds: int | None = Field(default=None, gt=0)
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"]
    )

    vpai_rate_limit: int = Field(default=60, ge=1)
    vpai_rate_window_seconds: float = Field(default=60.0, gt=0)
    vpai_rate_margin_seconds: float = Field(default=1.0, ge=0)
    vpai_workspace: str | None = None
    vpai_timeout_seconds: float = Field(default=15.0, gt=0)

    job_max_attempts: int = Field(default=3, ge=1)
    job_retry_backoff_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [30.0, 120.0, 600.0]
    )
    download_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    download_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    download_timeout_seconds: float = Field(default=30.0, gt=0)
    reconcile_after_seconds: float = Field(default=600.0, gt=0)
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
    # Longer than an actor's time limit: a job `submitting` this long belongs to a dead worker.
    submitting_lease_seconds: float = Field(default=15 * 60.0, gt=0)

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
        "vpai_webhook_secrets",
        "forwarded_allow_ips",
        "download_allowed_hosts",
        "job_retry_backoff_seconds",
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

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

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
        for secret in (self.vpai_api_key, self.admin_token):
            if secret is not None:
                found.append(secret.get_secret_value())
        return [value for value in found if value]


def _is_standard_webhooks_secret(value: str) -> bool:
    if not value.startswith("whsec_"):
        return False
    raw = value.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except binascii.Error:
        return False
    return len(key) >= 16


def normalise_database_url(url: str) -> str:
    """Map the URLs PaaS platforms hand out onto the drivers voicehook ships with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url
