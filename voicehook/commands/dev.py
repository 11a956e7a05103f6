"""`voicehook dev`: the whole system on a laptop from nothing.

SQLite under ./var (migrated), an embedded Redis keeping its data under ./var/redis, the
sandbox (the upstream API, posting signed webhooks to the receiver), the receiver, the
workers and the sweeper; Ctrl-C stops every child. A real REDIS_URL, DATABASE_URL or
VPAI_API_BASE_URL in the environment is used instead of the embedded one.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console

from config.database import make_engine
from config.settings import Settings
from records import migrate
from sandbox.voices import DEFAULT_VOICE
from voicehook.demo import DemoTargets, run_demo
from voicehook.embedded_redis import EmbeddedRedis
from voicehook.errors import RedisServerError
from voicehook.supervisor import Child, Supervisor, inherit_env, python_module

VAR = Path("var")
SANDBOX_API_KEY = "vk_test_sandbox"


def dev_secret(var: Path, name: str, prefix: str) -> str:
    """A generated secret kept under ./var, so restarts (and other tools) reuse it."""
    path = var / name
    if path.exists():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    value = prefix + secrets.token_hex(16)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def dev_webhook_secret(var: Path) -> str:
    return dev_secret(var, "dev-webhook-secret", "whsec_dev_")


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
    embedded: EmbeddedRedis | None = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(VAR / "redis")
        try:
            embedded.start()
        except RedisServerError as exc:
            typer.echo(f"voicehook dev: the embedded Redis did not start: {exc}", err=True)
            raise typer.Exit(1) from None
        overrides["REDIS_URL"] = embedded.url
    run_sandbox = "VPAI_API_BASE_URL" not in inherit_env()
    if run_sandbox:
        overrides["VPAI_API_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}/v1"
        overrides["VPAI_API_KEY"] = SANDBOX_API_KEY

    supervisor = Supervisor(inherit_env(**overrides))
    receiver_url = f"http://127.0.0.1:{port}"
    if run_sandbox:
        supervisor.start(
            Child(
                "sandbox",
                python_module(
                    "voicehook", "sandbox", "--port", str(sandbox_port),
                    "--api-key", SANDBOX_API_KEY, "--data-dir", str(VAR / "sandbox"),
                    "--webhook-url", f"{receiver_url}/webhooks/voiceproductionai",
                    "--webhook-secret", webhook_secret, "--log-level", "warning",
                ),
            )
        )  # fmt: skip
    supervisor.start(Child("web", python_module("voicehook", "web", "--host", "127.0.0.1")))
    supervisor.start(Child("worker", python_module("voicehook", "worker")))
    supervisor.start(Child("sweeper", python_module("voicehook", "sweeper")))
    typer.echo(
        "\nvoicehook dev is running\n"
        f"  receiver   {receiver_url}/webhooks/voiceproductionai\n"
        f"  health     {receiver_url}/readyz   metrics {receiver_url}/metrics\n"
        f"  api        {receiver_url}/api/jobs  (bearer token in var/dev-admin-token)\n"
        f"  upstream   {overrides.get('VPAI_API_BASE_URL', settings.vpai_api_base_url)}"
        f"{' (the sandbox)' if run_sandbox else ''}\n"
        f"  database   {settings.database_url}\n"
        f"  redis      {overrides.get('REDIS_URL', settings.redis_url)}\n"
        "Try:\n"
        "  voicehook customers add acme 'Acme Ltd'\n"
        f"  voicehook jobs submit --customer acme --voice {DEFAULT_VOICE.id} "
        "--script 'Hello!' --format wav\n"
        "  voicehook jobs list\n"
        "Ctrl-C stops everything.\n"
    )
    try:
        if demo:
            _demo(receiver_url, f"http://127.0.0.1:{sandbox_port}", admin_token)
        code = supervisor.wait()
    finally:
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(code)


def _demo(receiver_url: str, sandbox_url: str, admin_token: str) -> None:
    console = Console()
    deadline = time.monotonic() + 60
    while not _answers(receiver_url + "/readyz") or not _answers(sandbox_url + "/sandbox/"):
        if time.monotonic() > deadline:
            console.print("[red]the services did not come up; see the output above[/red]")
            return
        time.sleep(0.3)
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
