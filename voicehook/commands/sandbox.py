"""`voicehook sandbox` runs a local Voice Production AI API; `voicehook trigger` makes it send
one webhook event, as `stripe trigger` does."""

from __future__ import annotations

import contextlib
import ipaddress
import random
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from pydantic import SecretStr, ValidationError

from sandbox.app import create_app
from sandbox.faults import FaultSettings
from sandbox.server import bind_socket
from sandbox.settings import DEFAULT_PORT, SandboxSettings

DEFAULT_SANDBOX_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
POLL_SECONDS = 0.1


class Event(StrEnum):
    GENERATION_READY = "generation.ready"
    GENERATION_FAILED = "generation.failed"
    VOICE_CLONED = "voice.cloned"


def sandbox(
    *,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (0: any free one).")] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Register this webhook endpoint for the default workspace.")
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            help="The endpoint's signing secret (default: generated). Visible in `ps`: "
            "prefer --webhook-secret-file or SANDBOX_WEBHOOK_SECRET."
        ),
    ] = None,
    webhook_secret_file: Annotated[
        Path | None, typer.Option(help="Read the endpoint's signing secret from this file.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for fault decisions.")] = None,
    api_key: Annotated[str | None, typer.Option(help="The default workspace's key.")] = None,
    credits: Annotated[int | None, typer.Option(help="The default workspace's credits.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Keep audio here (default: temp).")] = None,
    rate_limit: Annotated[int | None, typer.Option(help="Requests per window.")] = None,
    rate_window: Annotated[float | None, typer.Option(help="Window length, seconds.")] = None,
    generation_failure_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of generations that fail.")
    ] = None,
    api_error_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of /v1 requests answered 5xx.")
    ] = None,
    duplicate_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of deliveries sent twice.")
    ] = None,
    delay_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of deliveries delayed.")
    ] = None,
    delay_seconds: Annotated[
        float | None, typer.Option(min=0.0, help="How long a delayed delivery waits.")
    ] = None,
    reorder_rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of deliveries held until a later one went."),
    ] = None,
    truncate_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of downloads cut off.")
    ] = None,
    corrupt_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of downloads corrupted.")
    ] = None,
    slow_rate: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of downloads throttled.")
    ] = None,
    slow_bytes_per_second: Annotated[
        int | None, typer.Option(min=1, help="Speed of a throttled download.")
    ] = None,
    expired_url_rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of generation.ready events with a dead URL."),
    ] = None,
    force_429: Annotated[
        int | None, typer.Option(min=0, help="Answer the next N with 429.")
    ] = None,
    force_402: Annotated[
        int | None, typer.Option(min=0, help="Refuse the next N generations with 402.")
    ] = None,
    force_500: Annotated[
        int | None, typer.Option(min=0, help="Answer the next N with 500.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the Voice Production AI sandbox: the whole /v1 API, webhooks and fault injection.

    Flags override the SANDBOX_* environment variables.
    """
    faults = {
        "generation_failure_rate": generation_failure_rate,
        "api_error_rate": api_error_rate,
        "webhook_duplicate_rate": duplicate_rate,
        "webhook_delay_rate": delay_rate,
        "webhook_delay_seconds": delay_seconds,
        "webhook_reorder_rate": reorder_rate,
        "download_truncate_rate": truncate_rate,
        "download_corrupt_rate": corrupt_rate,
        "download_slow_rate": slow_rate,
        "download_slow_bytes_per_second": slow_bytes_per_second,
        "expired_url_rate": expired_url_rate,
        "force_429": force_429,
        "force_402": force_402,
        "force_500": force_500,
    }
    overrides = {
        "host": host,
        "port": port,
        "webhook_url": webhook_url,
        "webhook_secret": webhook_secret,
        "seed": seed,
        "api_key": api_key,
        "credits": credits,
        "data_dir": data_dir,
        "rate_limit_requests": rate_limit,
        "rate_limit_window_seconds": rate_window,
    }
    if webhook_secret_file is not None:
        try:
            overrides["webhook_secret"] = webhook_secret_file.read_text().strip()
        except OSError as exc:
            typer.echo(f"cannot read --webhook-secret-file: {exc}", err=True)
            raise typer.Exit(2) from None
    settings = _settings(overrides, faults)
    with contextlib.closing(bind_socket(settings.host, settings.port)) as sock:
        settings = settings.model_copy(update={"port": sock.getsockname()[1]})
        _print_banner(settings)
        config = uvicorn.Config(create_app(settings), log_level=log_level, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])


def _settings(overrides: dict[str, Any], faults: dict[str, float | None]) -> SandboxSettings:
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        base = SandboxSettings()
        fault_settings = FaultSettings.model_validate(
            {**base.faults.model_dump(), **{k: v for k, v in faults.items() if v is not None}}
        )
        settings = SandboxSettings(**given, faults=fault_settings)
    except ValidationError as exc:
        typer.echo(f"invalid sandbox settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    if settings.seed is None:
        # Chosen here rather than inside the sandbox so it can be printed and reused.
        settings = settings.model_copy(update={"seed": random.SystemRandom().getrandbits(32)})
    return settings


def _print_banner(settings: SandboxSettings) -> None:
    url = settings.base_url()
    # The real bind ('' is every interface), not the URL clients are told to use.
    bound = f"[{settings.host}]" if ":" in settings.host else settings.host or "0.0.0.0"  # noqa: S104
    lines = [
        f"Voice Production AI sandbox listening on http://{bound}:{settings.port}"
        + ("" if is_loopback(settings.host) else " (reachable from other machines)"),
        f"  API base URL  {url}/v1",
        f"  API key       {settings.api_key.get_secret_value()}",
        f"  control API   {url}/sandbox/",
        f"  fault seed    {settings.seed}",
    ]
    if settings.webhook_url:
        secret = settings.webhook_secret or SecretStr("")
        lines.append(f"  webhooks      {settings.webhook_url}")
        lines.append(f"  signing with  {secret.get_secret_value()}")
    else:
        lines.append("  webhooks      none yet (--webhook-url, or POST /sandbox/webhook-endpoints)")
    defaults = FaultSettings().model_dump(by_alias=True)
    chosen = settings.faults.model_dump(by_alias=True)
    active = {key: value for key, value in chosen.items() if value != defaults[key]}
    if active:
        lines.append(f"  faults        {active}")
    if settings.data_dir:
        lines.append(f"  audio files   {settings.data_dir}")
    typer.echo("\n".join(lines))
    if not is_loopback(settings.host):
        typer.echo(
            f"WARNING: the sandbox listens on {settings.host or 'every interface'}, not only "
            "this machine. Its control API has no authentication and hands the webhook "
            "secret and API key to anyone who can reach it. Bind 127.0.0.1 unless you "
            "need otherwise.",
            err=True,
        )


def is_loopback(host: str) -> bool:
    """Whether `host` (an interface to bind) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trigger(
    event: Annotated[Event, typer.Argument(help="The event to send.")],
    sandbox_url: Annotated[
        str, typer.Option(envvar="SANDBOX_URL", help="Where the sandbox runs.")
    ] = DEFAULT_SANDBOX_URL,
    resource_id: Annotated[
        str | None, typer.Option("--id", help="Resend for this resource instead of a new one.")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the first attempts.")] = 10.0,
) -> None:
    """Ask a running sandbox to send one event (for a freshly made resource) to its endpoints."""
    body: dict[str, str] = {"event": event.value}
    if resource_id:
        body["id"] = resource_id
    base = sandbox_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=30.0, trust_env=False) as client:
        try:
            response = client.post("/sandbox/trigger", json=body)
        except httpx.HTTPError as exc:
            typer.echo(f"cannot reach the sandbox at {base}: {exc}", err=True)
            raise typer.Exit(1) from exc
        if response.status_code != 202:
            typer.echo(f"the sandbox refused: {response.status_code} {response.text}", err=True)
            raise typer.Exit(1)
        answer = response.json()
        typer.echo(f"Triggered {event.value} for {answer['data']['id']}")
        deliveries = answer["deliveries"]
        if not deliveries:
            typer.echo(
                "No webhook endpoint is registered: start the sandbox with --webhook-url, "
                "or POST /sandbox/webhook-endpoints.",
                err=True,
            )
            raise typer.Exit(1)
        if wait > 0 and not _report_attempts(client, {d["id"] for d in deliveries}, wait):
            raise typer.Exit(1)


def _report_attempts(client: httpx.Client, ids: set[str], wait: float) -> bool:
    """Print each delivery's first attempt; False if any was refused or failed."""
    deadline = time.monotonic() + wait
    reported: set[str] = set()
    ok = True
    while reported != ids and time.monotonic() < deadline:
        for delivery in client.get("/sandbox/deliveries").json()["items"]:
            finished = [a for a in delivery["attempts"] if a["finishedAt"]]
            if delivery["id"] not in ids or delivery["id"] in reported or not finished:
                continue
            reported.add(delivery["id"])
            first = finished[0]
            outcome = first["statusCode"] if first["statusCode"] is not None else first["error"]
            typer.echo(f"  -> {delivery['url']}: {outcome}")
            ok = ok and first["statusCode"] is not None and 200 <= first["statusCode"] < 300
        time.sleep(POLL_SECONDS)
    for _ in ids - reported:
        typer.echo("  -> still pending (a delay fault, or a slow endpoint)")
    return ok
