"""`voicehook doctor`: is this deployment able to run? Every check, in plain words."""

from __future__ import annotations

import contextlib
import logging

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from config.logging import configure_logging
from config.settings import Settings
from voicehook.dev_files import VAR
from voicehook.embedded_redis import running_embedded_url
from voicehook.ops.doctor import Check, Status, failed, run_checks
from voicehook.ops.output import json_text

MARKS = {
    Status.OK: "[green]ok  [/]",
    Status.WARN: "[yellow]warn[/]",
    Status.FAIL: "[red]FAIL[/]",
    Status.SKIP: "[dim]skip[/]",
}


def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check configuration, database, broker, API key and storage; exit 1 if any failed."""
    with contextlib.suppress(ValidationError):  # the settings check reports it; nothing logs
        configure_logging(Settings())  # log lines go to stderr, stdout is the report
    # Alembic's "Context impl …" and httpx's "HTTP Request …" lines repeat the report.
    for chatty in ("alembic", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    checks = run_checks(embedded_redis_url=lambda: running_embedded_url(VAR / "redis"))
    bad = failed(checks)
    if as_json:
        typer.echo(json_text({"ok": not bad, "checks": [c.document() for c in checks]}))
    else:
        console = Console(highlight=False)
        for check in checks:
            console.print(f"{MARKS[check.status]} {check.name:<15} {escape(check.message)}")
            if check.fix and check.status in (Status.FAIL, Status.WARN):
                console.print(f"     {'':<15} [bold]fix:[/] {escape(check.fix)}")
        failures = sum(c.status is Status.FAIL for c in checks)
        console.print(f"{failures} check(s) failed" if bad else "all checks passed")
    if bad:
        raise typer.Exit(exit_code(checks))


def exit_code(checks: list[Check]) -> int:
    """2 when the configuration itself is invalid (as every command), else 1."""
    settings_failed = any(c.name == "settings" and c.status is Status.FAIL for c in checks)
    return 2 if settings_failed else 1
