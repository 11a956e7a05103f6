"""`voicehook dev`: the whole system on a laptop from nothing.

SQLite under ./var (migrated), an embedded Redis keeping its data under ./var/redis, the
sandbox (the upstream API, posting signed webhooks to the receiver), the receiver, the
workers and the sweeper; Ctrl-C stops every child. A real REDIS_URL, DATABASE_URL or
VPAI_API_BASE_URL in the environment is used instead of the embedded one.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import typer
from rich.console import Console

from config.database import make_engine
from config.settings import Settings
from records import migrate
from sandbox.voices import DEFAULT_VOICE
from voicehook.commands.worker import STOP_GRACE_SECONDS
from voicehook.demo import DemoTargets, run_demo
from voicehook.dev_files import VAR, dev_secret, dev_webhook_secret, write_dev_env
from voicehook.embedded_redis import EmbeddedRedis
from voicehook.errors import RedisServerError
from voicehook.supervisor import Child, Supervisor, inherit_env, python_module

SANDBOX_API_KEY = "vk_test_sandbox"


def dev(
    port: int = typer.Option(8000, help="Port of the receiver."),
    sandbox_port: int = typer.Option(8010, help="Port of the sandbox (the upstream API)."),
    demo: bool = typer.Option(
        False, "--demo", help="Also create customers and jobs and show them to audio on disk."
    ),
) -> None:
    """Run everything on embedded defaults; Ctrl-C stops it all, data stays under ./var."""
    settings = Settings()
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()

    webhook_secret = (
        settings.vpai_webhook_secrets[0].get_secret_value()
        if settings.vpai_webhook_secrets
        else dev_webhook_secret(VAR)
    )
    admin_token = (
        settings.admin_token.get_secret_value()
        if settings.admin_token
        else dev_secret(VAR, "dev-admin-token", "adm_dev_")
    )
    overrides = {
        "LOG_FORMAT": "console",
        "PORT": str(port),
        "VPAI_WEBHOOK_SECRETS": webhook_secret,
        "ADMIN_TOKEN": admin_token,
        "SWEEPER_INTERVAL_SECONDS": "5",
        "WORKER_PROCESSES": "1",
    }
    if demo:
        overrides["JOB_RETRY_BACKOFF_SECONDS"] = "2,5"
        overrides["LOG_LEVEL"] = "warning"  # the live table owns the terminal
    embedded = _start_embedded_redis() if not settings.redis_url else None
    if embedded is not None:
        overrides["REDIS_URL"] = embedded.url
    run_sandbox = "VPAI_API_BASE_URL" not in inherit_env()
    if run_sandbox:
        overrides["VPAI_API_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}/v1"
        overrides["VPAI_API_KEY"] = SANDBOX_API_KEY
    shared = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": overrides.get("REDIS_URL", settings.redis_url or ""),
        "VPAI_API_BASE_URL": overrides.get("VPAI_API_BASE_URL", settings.vpai_api_base_url),
        "VPAI_WEBHOOK_SECRETS": webhook_secret,
        "ADMIN_TOKEN": admin_token,
        "AUDIO_DIR": str(settings.audio_dir),
    }
    if "VPAI_API_KEY" in overrides:
        shared["VPAI_API_KEY"] = overrides["VPAI_API_KEY"]
    dev_env = write_dev_env(VAR, shared)

    if run_sandbox:
        # Through the environment, never argv: every local user can read a command line.
        overrides["SANDBOX_WEBHOOK_SECRET"] = webhook_secret
    # Longer than `voicehook worker`'s own wait for its Dramatiq processes, so it is never
    # killed while they drain (they are out of reach of a kill of its session).
    supervisor = Supervisor(inherit_env(**overrides), grace_seconds=STOP_GRACE_SECONDS + 5)
    receiver_url = f"http://127.0.0.1:{port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    typer.echo("voicehook dev is starting…")
    code = 0
    try:
        _start_processes(supervisor, receiver_url, sandbox_port, webhook_secret, run_sandbox)
        probes = [receiver_url + "/readyz"] + ([sandbox_url + "/sandbox/"] if run_sandbox else [])
        if wait_until_answering(probes, READY_TIMEOUT_SECONDS):
            typer.echo(banner(receiver_url, shared, dev_env, sandbox=run_sandbox))
            if demo:
                _demo(receiver_url, sandbox_url, admin_token)
                typer.echo("voicehook dev keeps running; Ctrl-C stops everything.")
        else:
            typer.echo(
                f"voicehook dev: the receiver did not answer {receiver_url}/readyz within "
                f"{READY_TIMEOUT_SECONDS:.0f} s; see the output above. Still waiting; Ctrl-C "
                "stops everything.",
                err=True,
            )
        code = supervisor.wait()
    except KeyboardInterrupt:  # a stop signal before the supervisor's wait took over
        supervisor.stop()
    finally:
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(code)


def _start_embedded_redis() -> EmbeddedRedis:
    embedded = EmbeddedRedis(VAR / "redis")
    try:
        embedded.start()
    except RedisServerError as exc:
        typer.echo(f"voicehook dev: the embedded Redis did not start: {exc}", err=True)
        raise typer.Exit(1) from None
    return embedded


def _start_processes(
    supervisor: Supervisor,
    receiver_url: str,
    sandbox_port: int,
    webhook_secret: str,
    run_sandbox: bool,
) -> None:
    if run_sandbox:
        supervisor.start(
            Child(
                "sandbox",
                python_module(
                    "voicehook", "sandbox", "--port", str(sandbox_port),
                    "--api-key", SANDBOX_API_KEY, "--data-dir", str(VAR / "sandbox"),
                    "--webhook-url", f"{receiver_url}/webhooks/voiceproductionai",
                    "--log-level", "warning",
                ),
            )
        )  # fmt: skip
    supervisor.start(Child("web", python_module("voicehook", "web", "--host", "127.0.0.1")))
    supervisor.start(Child("worker", python_module("voicehook", "worker")))
    supervisor.start(Child("sweeper", python_module("voicehook", "sweeper")))


# A loaded laptop took 22-43 s to answer; past this, dev says so instead of waiting silently.
READY_TIMEOUT_SECONDS = 120.0


def wait_until_answering(urls: list[str], timeout: float) -> bool:
    """Poll each URL until it answers 200; False when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not all(_answers(url) for url in urls):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def banner(receiver_url: str, shared: dict[str, str], dev_env: Path, *, sandbox: bool) -> str:
    """What runs where and what to try next, printed once the receiver answers /readyz."""
    upstream = shared["VPAI_API_BASE_URL"] + (" (the sandbox)" if sandbox else "")
    return (
        "\nvoicehook dev is running\n"
        f"  receiver   {receiver_url}/webhooks/voiceproductionai\n"
        f"  health     {receiver_url}/readyz   metrics {receiver_url}/metrics\n"
        f"  api        POST {receiver_url}/api/jobs, GET {receiver_url}/api/jobs/ID "
        "(bearer token in var/dev-admin-token)\n"
        f"  dashboard  {receiver_url}/admin/ (log in with the token in var/dev-admin-token)\n"
        f"  upstream   {upstream}\n"
        f"  database   {shared['DATABASE_URL']}\n"
        f"  redis      {shared['REDIS_URL']}\n"
        f"Its settings are in {dev_env}: in another terminal, from this folder, run\n"
        f"  . {dev_env}\n"
        "then, for instance:\n"
        "  voicehook doctor\n"
        "  voicehook customers add acme 'Acme Ltd'\n"
        f"  voicehook jobs submit --customer acme --voice {DEFAULT_VOICE.id} "
        "--script 'Hello!' --format wav\n"
        "  voicehook jobs list\n"
        "Ctrl-C stops everything.\n"
    )


def _demo(receiver_url: str, sandbox_url: str, admin_token: str) -> None:
    console = Console()
    try:
        ok = run_demo(DemoTargets(receiver_url, sandbox_url, admin_token), console)
    except httpx.HTTPError as exc:
        console.print(f"[red]the demo stopped: {exc}[/red]")
        return
    console.print(
        "every job is ready; audio is under ./var/audio/" if ok else "some jobs did not finish"
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
