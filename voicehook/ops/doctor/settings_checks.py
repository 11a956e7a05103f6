"""The checks of the settings themselves: they load, a webhook secret and an API key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from config.errors import ConfigurationError
from config.settings import Settings
from config.settings_errors import describe_settings_error, invalid_variables
from config.signing import secret_fingerprint
from voicehook.ops.doctor.model import Check, Status


def load_checked_settings(
    load: Callable[..., Settings] = Settings,
) -> tuple[Check, Settings | None, frozenset[str]]:
    """The settings, a check saying whether they load, and the variables found invalid.

    When some variables are invalid, the settings come back with those at their defaults,
    so the checks that do not depend on them still run (the others are skipped)."""
    try:
        settings = load()
    except ValidationError as exc:
        bad = invalid_variables(exc)
        failed_check = Check(
            "settings",
            Status.FAIL,
            describe_settings_error(exc),
            "correct the variables named above (see the README's Configuration table)",
            facts={"invalid": sorted(bad)},
        )
        try:
            fallback = load(**{name.lower(): _default(name.lower()) for name in bad})
        except ValidationError:
            return failed_check, None, bad
        return failed_check, fallback, bad
    return Check("settings", Status.OK, "the environment's settings load"), settings, frozenset()


def _default(field_name: str) -> Any:
    return Settings.model_fields[field_name].get_default(call_default_factory=True)


def check_webhook_secret(settings: Settings) -> Check:
    """VPAI_WEBHOOK_SECRETS holds at least one secret, and no empty one."""
    fix = (
        "set VPAI_WEBHOOK_SECRETS to the endpoint's signing secret (comma-separated, newest first)"
    )
    if not settings.vpai_webhook_secrets:
        return Check(
            "webhook secret",
            Status.FAIL,
            "VPAI_WEBHOOK_SECRETS is not set, so no webhook can be verified and "
            "`voicehook web` refuses to start",
            fix,
        )
    try:
        values = settings.webhook_secret_values()
    except ConfigurationError:
        return Check(
            "webhook secret",
            Status.FAIL,
            "VPAI_WEBHOOK_SECRETS contains an empty secret, which would accept forged payloads",
            "remove the empty entry (look for a stray comma) from VPAI_WEBHOOK_SECRETS",
        )
    fingerprints = [secret_fingerprint(value) for value in values]
    return Check(
        "webhook secret",
        Status.OK,
        f"{len(values)} webhook secret(s) configured",
        facts={"fingerprints": fingerprints},
    )


def check_api_key_present(settings: Settings) -> Check:
    """VPAI_API_KEY is set and not blank."""
    key = settings.vpai_api_key.get_secret_value().strip() if settings.vpai_api_key else ""
    if not key:
        return Check(
            "api key",
            Status.FAIL,
            "VPAI_API_KEY is not set, so workers cannot fetch audio, submit or retry generations",
            "set VPAI_API_KEY to the workspace's API key (vk_live_…)",
        )
    return Check("api key", Status.OK, "VPAI_API_KEY is set")
