"""`voicehook endpoints` and `voicehook notifications`: where the business's app is told of
finished work, and what became of each notification."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from config.database import make_engine
from config.database_settings import read_database_settings
from config.errors import BrokerUnavailable, ConfigurationError
from records import notify_endpoints, outbox_delivery
from records.errors import EnvironmentEndpoint
from records.outbox_tables import DeliveryStatus, EventType
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.ops.output import json_text

if TYPE_CHECKING:
    from config.settings import Settings

endpoints_app = typer.Typer(
    help="Endpoints of the business's app that notifications go to.", no_args_is_help=True
)
notifications_app = typer.Typer(
    help="Notifications to the business's app: list, resend.", no_args_is_help=True
)

MAX_URL_CHARS = 2048
EVENT_TYPES = [event.value for event in EventType]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"voicehook: {message}", err=True)
    return typer.Exit(code)


def _secret(given: str | None) -> str:
    # The processors' and the broker's modules, and the whole settings (pydantic-settings),
    # are imported by the commands that write only: the lists start without them (issue 13;
    # `python -m bench startup`), reading the database's settings alone.
    from config.settings import Settings  # noqa: PLC0415 - start-up time
    from processors.notify_message import new_secret  # noqa: PLC0415 - start-up time

    if given is None:
        return new_secret()
    probe = Settings.model_validate({"notify_secret": given})
    try:
        (value,) = probe.notify_secret_values()
    except (ConfigurationError, ValueError) as exc:
        raise _fail("--secret must be one whsec_ secret (base64 of at least 16 bytes)", 2) from exc
    return value


@endpoints_app.command("add")
def add(
    url: str = typer.Argument(..., help="The app's https:// (or http://) URL."),
    event_type: list[str] = typer.Option(
        [], "--event-type", help=f"Only this type (repeatable; default all): {EVENT_TYPES}."
    ),
    secret: str | None = typer.Option(
        None, help="Its whsec_ signing secret (default: a new one, printed once)."
    ),
    max_in_flight: int | None = typer.Option(
        None, min=1, max=1000, help="Deliveries in flight at once (default NOTIFY_MAX_IN_FLIGHT)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add an endpoint; prints its id and signing secret (give the secret to the app)."""
    from processors.errors import DisallowedNotifyUrl  # noqa: PLC0415 - start-up time
    from processors.notify_urls import parse_notify_url  # noqa: PLC0415

    if len(url) > MAX_URL_CHARS:
        raise _fail(f"the URL is longer than {MAX_URL_CHARS} characters", 2)
    try:
        parse_notify_url(url)
    except DisallowedNotifyUrl as exc:
        raise _fail(str(exc), 2) from None
    unknown = sorted(set(event_type) - set(EVENT_TYPES))
    if unknown:
        raise _fail(f"unknown event type(s) {unknown}; choose from {EVENT_TYPES}", 2)
    signing = _secret(secret)
    engine = make_engine(load_settings())
    endpoint_id = notify_endpoints.add_endpoint(
        engine, url, secret=signing, event_types=event_type, max_in_flight=max_in_flight
    )
    if as_json:
        typer.echo(json_text({"id": endpoint_id, "secret": signing}))
    else:
        typer.echo(f"endpoint {endpoint_id} added; its signing secret (shown once): {signing}")


@endpoints_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every endpoint, with its health and its pending and dead-lettered deliveries."""
    settings = load_settings()
    engine = make_engine(settings)
    notify_endpoints.sync_env_endpoints(engine, settings.notify_urls)
    rows = notify_endpoints.list_endpoints(engine)
    if as_json:
        typer.echo(json_text([dataclasses.asdict(row) for row in rows]))
        return
    table = Table("id", "url", "from", "types", "health", "pending", "failed", "rotating until")
    for row in rows:
        health = "ok" if row.last_success_at is None else f"ok at {row.last_success_at:%H:%M:%S}"
        if row.flagged_at is not None:
            health = f"FLAGGED: failing since {row.failing_since:%Y-%m-%d %H:%M}"
        elif row.failing_since is not None:
            health = f"failing since {row.failing_since:%Y-%m-%d %H:%M}"
        table.add_row(
            row.id,
            row.url,
            row.source,
            ",".join(row.event_types) or "all",
            health,
            str(row.pending),
            str(row.failed),
            "" if row.rotating_until is None else f"{row.rotating_until:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@endpoints_app.command("remove")
def remove(endpoint_id: str = typer.Argument(..., help="The endpoint's id.")) -> None:
    """Remove an endpoint added here, with its deliveries."""
    try:
        removed = notify_endpoints.remove_endpoint(make_engine(load_settings()), endpoint_id)
    except EnvironmentEndpoint as exc:
        raise _fail(str(exc), 2) from None
    if not removed:
        raise _fail(f"no endpoint {endpoint_id}")
    typer.echo(f"endpoint {endpoint_id} removed")


@endpoints_app.command("rotate-secret")
def rotate(
    endpoint_id: str = typer.Argument(..., help="The endpoint's id."),
    secret: str | None = typer.Option(None, help="The new whsec_ secret (default: a new one)."),
    keep_old_hours: float = typer.Option(
        24.0, min=0, max=24 * 30, help="Hours the current secret keeps signing too."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sign with a new secret; the current one signs too for a while, so the app can switch."""
    signing = _secret(secret)
    try:
        rotated = notify_endpoints.rotate_secret(
            make_engine(load_settings()),
            endpoint_id,
            signing,
            keep_previous_seconds=keep_old_hours * 3600,
        )
    except EnvironmentEndpoint as exc:
        raise _fail(str(exc), 2) from None
    if not rotated:
        raise _fail(f"no endpoint {endpoint_id}")
    if as_json:
        typer.echo(json_text({"id": endpoint_id, "secret": signing}))
    else:
        typer.echo(f"endpoint {endpoint_id} now signs with (shown once): {signing}")


@notifications_app.command("list")
def list_notifications(
    failed: bool = typer.Option(False, "--failed", help="Only dead-lettered deliveries."),
    status: str | None = typer.Option(
        None, help=f"Only deliveries in this status: {[s.value for s in DeliveryStatus]}."
    ),
    limit: int = typer.Option(50, min=1, max=10_000, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Deliveries of notifications, newest first."""
    wanted = DeliveryStatus.FAILED.value if failed else status
    # A read: it logs nothing, so no logging set-up (start-up time).
    rows = outbox_delivery.list_deliveries(make_engine(read_database_settings()), wanted, limit)
    if as_json:
        typer.echo(json_text([dataclasses.asdict(row) for row in rows]))
        return
    table = Table("notification", "type", "subject", "endpoint", "status", "tries", "when", "error")
    for row in rows:
        when = row.delivered_at if row.delivered_at is not None else row.next_attempt_at
        code = "" if row.last_status_code is None else f"{row.last_status_code} "
        table.add_row(
            row.notification_id,
            row.event_type,
            row.subject_id,
            row.endpoint_id,
            row.status,
            str(row.attempts),
            f"{when:%Y-%m-%d %H:%M:%S}",
            code + (row.last_error or "")[:60],
        )
    Console().print(table)


@notifications_app.command("resend")
def resend(
    notification_id: str = typer.Argument(..., help="Its id (the webhook-id, msg_…)."),
) -> None:
    """Send a dead-lettered (or delivered) notification again, under the same webhook-id."""
    settings = load_settings()
    delivery_ids = outbox_delivery.resend(make_engine(settings), notification_id)
    if not delivery_ids:
        raise _fail(f"nothing to resend for {notification_id} (unknown, or still pending)")
    _enqueue(settings, delivery_ids)
    typer.echo(f"resending {notification_id} to {len(delivery_ids)} endpoint(s)")


def _enqueue(settings: Settings, delivery_ids: Sequence[str]) -> None:
    from config.broker import build_broker, enqueue_notifications  # noqa: PLC0415 - as above

    url = redis_url(settings)
    try:
        if not url:
            raise ConfigurationError("REDIS_URL is not set")
        enqueue_notifications(
            build_broker(settings.model_copy(update={"redis_url": url})), delivery_ids
        )
    except (BrokerUnavailable, ConfigurationError) as exc:
        typer.echo(f"not enqueued ({exc}); the sweeper will send it", err=True)
