"""`voicehook doctor`: each check a small function returning a Check; the command renders.

Checks say what is wrong in plain words and what to do about it. None prints a secret: URLs
are shown without passwords, secrets only by fingerprint. One module per kind of check:
`settings_checks`, `store_checks`, `api_check`, and `health_checks` (what the deployment's
state says: dead letters, stuck events, flagged notification endpoints).
"""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Settings
from voicehook.ops.doctor.api_check import check_api
from voicehook.ops.doctor.health_checks import HEALTH_CHECKS, health_checks
from voicehook.ops.doctor.model import Check, Status, redact_url
from voicehook.ops.doctor.settings_checks import (
    check_api_key_present,
    check_webhook_secret,
    load_checked_settings,
)
from voicehook.ops.doctor.store_checks import (
    check_broker,
    check_bucket,
    check_database,
    check_storage,
    schema_check,
)

__all__ = ["Check", "Status", "failed", "redact_url", "run_checks", "schema_check"]


# The variables each check reads: a check whose variable is invalid is skipped, not run on
# the default in its place.
CHECK_VARIABLES = {
    "webhook secret": {"VPAI_WEBHOOK_SECRETS"},
    "api key": {"VPAI_API_KEY"},
    "database": {"DATABASE_URL", "DATABASE_TIMEOUT_SECONDS"},
    "schema": {"DATABASE_URL", "DATABASE_TIMEOUT_SECONDS"},
    "broker": {"REDIS_URL"},
    "api": {
        "REDIS_URL", "VPAI_API_BASE_URL", "VPAI_API_KEY", "VPAI_TIMEOUT_SECONDS",
        "VPAI_RATE_LIMIT", "VPAI_RATE_WINDOW_SECONDS", "VPAI_RATE_MARGIN_SECONDS",
        "VPAI_WORKSPACE",
    },
    "storage": {"AUDIO_DIR"},
    "bucket": {
        "STORAGE_URL", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION", "AUDIO_DIR",
    },
}  # fmt: skip


def run_checks(
    load: Callable[..., Settings] = Settings,
    embedded_redis_url: Callable[[], str | None] = lambda: None,
) -> list[Check]:
    """Every check, in the order the command shows them."""
    loaded, settings, bad = load_checked_settings(load)
    if settings is None:
        return [
            loaded,
            *(
                Check(n, Status.SKIP, "not checked: settings did not load")
                for n in (*CHECK_VARIABLES, *HEALTH_CHECKS)
            ),
        ]
    redis_url = settings.redis_url or embedded_redis_url()
    found = [loaded]

    def skipped(name: str) -> Check | None:
        invalid = sorted(CHECK_VARIABLES[name] & bad)
        if not invalid:
            return None
        return Check(name, Status.SKIP, f"not checked: {', '.join(invalid)} is invalid")

    def run(name: str, check: Callable[[], Check]) -> Check:
        result = skipped(name) or check()
        found.append(result)
        return result

    run("webhook secret", lambda: check_webhook_secret(settings))
    run("api key", lambda: check_api_key_present(settings))
    database_skipped = [c for c in (skipped("database"), skipped("schema")) if c is not None]
    found.extend(database_skipped or check_database(settings))
    broker = run(
        "broker",
        lambda: check_broker(redis_url, embedded=not settings.redis_url and redis_url is not None),
    )
    run("api", lambda: check_api(settings, redis_url if broker.status is Status.OK else None))
    run("storage", lambda: check_storage(settings.audio_dir))
    run("bucket", lambda: check_bucket(settings))
    usable = all(c.status is Status.OK for c in found if c.name in ("database", "schema"))
    broker_ok = broker.status is Status.OK
    found.extend(health_checks(settings, redis_url if broker_ok else None, usable))
    return found


def failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)
