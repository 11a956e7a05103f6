"""The two settings a database connection needs, readable without the rest of `Settings`.

`Settings` inherits these fields (one definition, one validator). A read of the CLI
(`jobs list`, `events list`, ...) needs nothing else, so it reads just these: no
pydantic-settings and no 90-field model to build at start-up (issue 13), and a bad variable
the read does not use cannot stop it. A bad value of these is the same one line naming the
variable that `Settings` gives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError, field_validator

from config.errors import ConfigurationError
from config.settings_errors import describe_settings_error

DEFAULT_DATABASE_URL = "sqlite:///./var/voicehook.db"
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "postgresql+psycopg")


class DatabaseSettings(BaseModel):
    """DATABASE_URL and DATABASE_TIMEOUT_SECONDS (see the README's Configuration table)."""

    database_url: str = DEFAULT_DATABASE_URL
    database_timeout_seconds: float = Field(default=5.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        scheme = value.partition("://")[0] if "://" in value else ""
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                "a URL starting sqlite:/// (a file) or postgresql:// (postgres:// works too)"
            )
        return normalise_database_url(value)


def read_database_settings(environ: Mapping[str, str] = os.environ) -> DatabaseSettings:
    """The database settings from the environment, whose names are case-insensitive as for
    `Settings`; a bad value is a ConfigurationError of one line naming the variable."""
    fields = DatabaseSettings.model_fields
    values = {name.lower(): value for name, value in environ.items() if name.lower() in fields}
    try:
        return DatabaseSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from None


def normalise_database_url(url: str) -> str:
    """Map the URLs PaaS platforms hand out onto the drivers voicehook ships with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url
