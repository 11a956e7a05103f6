"""The sandbox's settings, from `SANDBOX_*` environment variables, flags, or code."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sandbox.faults import FaultSettings

DEFAULT_API_KEY = "vk_test_sandbox"
DEFAULT_PORT = 8010
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - recognised, not bound


def generate_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


class SandboxSettings(BaseSettings):
    """Everything a sandbox can be told; the environment name is `SANDBOX_` + the field name."""

    model_config = SettingsConfigDict(
        env_prefix="SANDBOX_", env_nested_delimiter="__", case_sensitive=False, extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    public_url: str | None = None
    data_dir: Path | None = None
    seed: int | None = None

    api_key: SecretStr = SecretStr(DEFAULT_API_KEY)
    credits: int = Field(default=100_000, ge=0)

    rate_limit_requests: int = Field(default=60, ge=1)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)

    queued_seconds: float = Field(default=0.1, ge=0)
    running_seconds: float = Field(default=0.3, ge=0)
    enhancing_seconds: float = Field(default=0.1, ge=0)
    clone_seconds: float = Field(default=0.5, ge=0)
    speech: Literal["auto", "espeak", "tone"] = "auto"
    max_script_chars: int = Field(default=5000, ge=1)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1)

    download_url_ttl_seconds: float = Field(default=600.0, gt=0)
    url_signing_secret: SecretStr | None = None

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]
    )

    faults: FaultSettings = Field(default_factory=FaultSettings)

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _non_negative_delays(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must not be negative")
        return value

    @field_validator("api_key", "webhook_secret", "url_signing_secret")
    @classmethod
    def _no_empty_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty: an empty key or secret protects nothing")
        return value

    @model_validator(mode="after")
    def _secret_for_configured_endpoint(self) -> Self:
        # As with `stripe listen`: an endpoint given without a secret gets a fresh one.
        if self.webhook_url and self.webhook_secret is None:
            self.webhook_secret = SecretStr(generate_webhook_secret())
        return self

    def base_url(self) -> str:
        """The sandbox's own URL, as put into download links that no request is there to name."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"
