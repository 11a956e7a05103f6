"""`voicehook dev`: the whole system on a laptop from nothing (SQLite, embedded Redis)."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from config.database import make_engine
from config.settings import Settings
from records import migrate
from voicehook.embedded_redis import EmbeddedRedis
from voicehook.supervisor import Child, Supervisor, inherit_env, python_module

VAR = Path("var")


def dev_webhook_secret(var: Path) -> str:
    """A generated secret, kept under ./var so restarts (and the sandbox) keep using it."""
    path = var / "dev-webhook-secret"
    if path.exists():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    value = "whsec_dev_" + secrets.token_hex(16)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def dev(
    port: int = typer.Option(8000, help="Port of the receiver."),
) -> None:
    """Run the receiver and the sweeper on embedded defaults; Ctrl-C stops everything."""
    overrides = {"LOG_FORMAT": "console", "PORT": str(port)}
    settings = Settings()
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()

    embedded: EmbeddedRedis | None = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(VAR / "redis")
        embedded.start()
        overrides["REDIS_URL"] = embedded.url
    if not settings.vpai_webhook_secrets:
        overrides["VPAI_WEBHOOK_SECRETS"] = dev_webhook_secret(VAR)
    overrides.setdefault("SWEEPER_INTERVAL_SECONDS", "5")

    supervisor = Supervisor(inherit_env(**overrides))
    supervisor.start(Child("web", python_module("voicehook", "web", "--host", "127.0.0.1")))
    supervisor.start(Child("sweeper", python_module("voicehook", "sweeper")))
    typer.echo(
        "\nvoicehook dev is running\n"
        f"  receiver   http://127.0.0.1:{port}/webhooks/voiceproductionai\n"
        f"  health     http://127.0.0.1:{port}/readyz   metrics http://127.0.0.1:{port}/metrics\n"
        f"  database   {settings.database_url}\n"
        f"  redis      {overrides.get('REDIS_URL', settings.redis_url)}\n"
        f"  secret     in {VAR / 'dev-webhook-secret'} (VPAI_WEBHOOK_SECRETS overrides it)\n"
        'Try:  echo \'{"event":"generation.ready","data":{"id":"g1"}}\' > body.json\n'
        f'      curl -H "X-Voiceproductionai-Signature: $(voicehook sign body.json)" '
        f"--data-binary @body.json http://127.0.0.1:{port}/webhooks/voiceproductionai\n"
        "Ctrl-C stops everything.\n"
    )
    try:
        code = supervisor.wait()
    finally:
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(code)
