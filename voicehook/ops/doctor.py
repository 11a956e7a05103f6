"""`voicehook doctor`: each check a small function returning a Check; the command renders.

Checks say what is wrong in plain words and what to do about it. None prints a secret: URLs
are shown without passwords, secrets only by fingerprint.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config.broker import redis_client
from config.database import make_engine, ping
from config.errors import ConfigurationError
from config.queues import EVENTS_QUEUE, JOBS_QUEUE
from config.settings import Settings
from config.settings_errors import describe_settings_error, invalid_variables
from config.signing import secret_fingerprint
from processors.budget import ApiBudget, BudgetPolicy
from processors.errors import (
    ApiError,
    BudgetExhausted,
    NetworkError,
    RateLimited,
    ServerError,
    Unauthorized,
)
from processors.vpai import VpaiClient, api_http_client, explain
from processors.worker import workspace_name
from records.migrate import current_revision, head_revision
from storage.build import open_store
from storage.errors import ObjectStoreError, StoreUnreachable
from storage.probe import probe_store

MIN_FREE_BYTES = 100 * 1024 * 1024  # below this, downloads will soon fail
LOW_FREE_BYTES = 1024 * 1024 * 1024  # below this, a warning
UPGRADE = "run `voicehook db upgrade` (the Procfile's release step does it on deploy)"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works now, but look at it
    FAIL = "fail"  # broken: the fix says what to do
    SKIP = "skip"  # not checked, because something it needs failed


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    fix: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "message": self.message,
            "fix": self.fix,
            "facts": self.facts,
        }


def redact_url(url: str) -> str:
    """`url` without its password (`redis://:***@host`), for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


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


def check_database(settings: Settings) -> list[Check]:
    """The database answers, and its schema is at the newest migration."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings, pool_size=1)
    try:
        try:
            ping(engine)
            current = current_revision(engine)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            return [
                Check(
                    "database",
                    Status.FAIL,
                    f"cannot connect to {shown}: {reason[0] if reason else type(exc).__name__}",
                    "check DATABASE_URL, and that the database server is running and reachable",
                ),
                Check("schema", Status.SKIP, "not checked: the database is unreachable"),
            ]
    finally:
        engine.dispose()
    connected = Check("database", Status.OK, f"connected to {shown}", facts={"url": shown})
    return [connected, schema_check(current, head_revision())]


def schema_check(current: str | None, head: str | None) -> Check:
    """The schema at head; otherwise, which way it is off and what to run."""
    facts = {"current": current, "head": head}
    if current == head:
        return Check("schema", Status.OK, f"schema at the newest revision ({head})", facts=facts)
    if current is None:
        return Check(
            "schema", Status.FAIL, "the database has no voicehook tables yet", UPGRADE, facts
        )
    return Check(
        "schema",
        Status.FAIL,
        f"the schema is at revision {current}, but this version of voicehook needs {head}",
        f"{UPGRADE}; if the database is ahead, deploy the voicehook version that migrated it",
        facts,
    )


def check_broker(redis_url: str | None, *, embedded: bool = False) -> Check:
    """Redis answers a ping; the depths of the event and job queues."""
    if not redis_url:
        return Check(
            "broker",
            Status.FAIL,
            "REDIS_URL is not set, so nothing can be enqueued for the workers",
            "set REDIS_URL to your Redis (or run `voicehook dev`, which starts an embedded one)",
        )
    shown = redact_url(redis_url) + (" (the embedded Redis of `voicehook dev`)" if embedded else "")
    client = redis_client(redis_url)
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.ping()
            for queue in (EVENTS_QUEUE, JOBS_QUEUE):
                pipe.llen(f"dramatiq:{queue}")
                pipe.llen(f"dramatiq:{queue}.DQ")
                pipe.zcard(f"dramatiq:{queue}.XQ")
            _, *depths = pipe.execute()
    except redis.RedisError as exc:
        return Check(
            "broker",
            Status.FAIL,
            f"Redis at {shown} does not answer: {exc}",
            "start Redis, or point REDIS_URL at one that runs",
        )
    finally:
        client.close()
    queues = {
        queue: {"waiting": depths[i * 3], "delayed": depths[i * 3 + 1], "dead": depths[i * 3 + 2]}
        for i, queue in enumerate((EVENTS_QUEUE, JOBS_QUEUE))
    }
    words = ", ".join(
        f"dramatiq:{q} {d['waiting']} waiting, {d['delayed']} delayed, {d['dead']} dead"
        for q, d in queues.items()
    )
    return Check(
        "broker", Status.OK, f"Redis at {shown} answers; {words}", facts={"queues": queues}
    )


def check_api(settings: Settings, redis_url: str | None) -> Check:
    """One `GET /v1/voices` with the key, taking a slot of the shared budget like any call."""
    key = settings.vpai_api_key.get_secret_value().strip() if settings.vpai_api_key else ""
    if not key:
        return Check("api", Status.SKIP, "not checked: VPAI_API_KEY is not set")
    if not redis_url:
        return Check("api", Status.SKIP, "not checked: the API budget lives in Redis, unreachable")
    base = settings.vpai_api_base_url
    budget = ApiBudget(
        redis_client(redis_url),
        workspace_name(settings, key),
        BudgetPolicy(
            settings.vpai_rate_limit,
            settings.vpai_rate_window_seconds,
            settings.vpai_rate_margin_seconds,
        ),
    )
    with api_http_client(base, key, settings.vpai_timeout_seconds) as http:
        try:
            voices = VpaiClient(http, budget, max_budget_wait_seconds=5.0).list_voices()
        except (ApiError, redis.RedisError, httpx.HTTPError, ValueError) as exc:
            return api_failure(base, exc)
    return Check(
        "api",
        Status.OK,
        f"{base} accepts the key ({len(voices)} voices)",
        facts={"voices": len(voices)},
    )


def api_failure(base: str, exc: Exception) -> Check:
    """What an error of the API check means, and what to do."""
    if isinstance(exc, Unauthorized):
        return Check(
            "api",
            Status.FAIL,
            f"{base} refused the API key (401 unauthorized)",
            "check VPAI_API_KEY: copy the key again from the workspace's settings",
        )
    if isinstance(exc, BudgetExhausted | RateLimited):
        return Check(
            "api",
            Status.WARN,
            "not checked: the shared budget of API requests is in use right now",
            "run `voicehook doctor` again in a minute",
        )
    if isinstance(exc, NetworkError):
        return Check(
            "api",
            Status.FAIL,
            f"cannot reach {base}: {exc}",
            "check VPAI_API_BASE_URL and the network (proxy, firewall, DNS)",
        )
    if isinstance(exc, ServerError):
        return Check("api", Status.WARN, f"{base} answered {exc}", "the API is in trouble; retry")
    if isinstance(exc, ApiError):
        return Check("api", Status.FAIL, f"{base} answered {exc}", explain(exc))
    return Check(
        "api",
        Status.FAIL,
        f"the API check could not run: {type(exc).__name__}: {exc}",
        "check VPAI_API_BASE_URL and REDIS_URL",
    )


def check_storage(audio_dir: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    """AUDIO_DIR exists (or is created), takes a file, and has room."""
    where = str(audio_dir.resolve())
    try:
        audio_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} does not exist and cannot be created: {exc.strerror or exc}",
            "create it, or set AUDIO_DIR to a folder the service may write to",
        )
    try:
        with tempfile.NamedTemporaryFile(dir=audio_dir, prefix=".doctor-") as probe:
            probe.write(b"voicehook")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} is not writable: {exc.strerror or exc}",
            "give the service's user write access to it, or set AUDIO_DIR elsewhere",
        )
    free = shutil.disk_usage(audio_dir).free
    facts = {"path": where, "freeBytes": free}
    if free < min_free:
        return Check(
            "storage",
            Status.FAIL,
            f"AUDIO_DIR {where} has only {_size(free)} free",
            "free some space, or move AUDIO_DIR to a larger volume",
            facts,
        )
    if free < max(LOW_FREE_BYTES, min_free):
        return Check(
            "storage", Status.WARN, f"AUDIO_DIR {where} has {_size(free)} free (low)", None, facts
        )
    return Check(
        "storage", Status.OK, f"AUDIO_DIR {where} is writable, {_size(free)} free", None, facts
    )


def check_bucket(settings: Settings) -> Check:
    """With STORAGE_URL set: a probe object written, read back and deleted, in plain words."""
    if not settings.storage_url:
        return Check(
            "bucket",
            Status.SKIP,
            "STORAGE_URL is unset: audio and voice samples are kept under AUDIO_DIR",
            "on a PaaS, where web and worker have separate disks, set STORAGE_URL=s3://bucket",
        )
    try:
        store = open_store(settings)
        probe_store(store, settings.audio_dir)
    except StoreUnreachable as exc:
        return Check("bucket", Status.FAIL, str(exc), "check S3_ENDPOINT_URL and the network to it")
    except ObjectStoreError as exc:
        return Check("bucket", Status.FAIL, str(exc), "fix the bucket settings named above")
    endpoint = redact_url(settings.s3_endpoint_url) if settings.s3_endpoint_url else "AWS"
    return Check(
        "bucket",
        Status.OK,
        f"{store.name} at {endpoint}: a probe object was written, read back and deleted",
        None,
        {"store": store.name},
    )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


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
            *(Check(n, Status.SKIP, "not checked: settings did not load") for n in CHECK_VARIABLES),
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
    return found


def failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)
