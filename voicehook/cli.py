"""The `voicehook` console script: one lazy group, one module per command group.

Sub-command modules are imported when their command runs (`voicehook.lazy_group`), and
settings are read by the command, never at import; so `--help` starts fast and a bad
variable cannot break it. A configuration or database error anywhere ends as one line on
stderr naming the variable at fault, with exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

import typer
from typer import _click

from voicehook.lazy_group import Entry, LazyGroup, pause_collection

CONFIGURATION_EXIT = 2


class VoicehookGroup(LazyGroup):
    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise
        except Exception as exc:
            message = explain_failure(exc)
            if message is None:
                raise
            typer.echo(f"voicehook: {message}", err=True)
            raise typer.Exit(CONFIGURATION_EXIT) from None

    entries: ClassVar[Mapping[str, Entry]] = {
        "sandbox": Entry(
            "voicehook.commands.sandbox:sandbox",
            "Run the Voice Production AI sandbox: the whole /v1 API, webhooks and fault injection.",
        ),
        "trigger": Entry(
            "voicehook.commands.sandbox:trigger",
            "Ask a running sandbox to send one event (for a freshly made resource) to its "
            "endpoints.",
        ),
        "web": Entry("voicehook.commands.serve:web", "Run the webhook receiver under uvicorn."),
        "sweeper": Entry(
            "voicehook.commands.serve:sweeper",
            "Enqueue what was committed but never enqueued, recover stuck jobs, reconcile "
            "overdue generations. Safe to run several.",
        ),
        "worker": Entry(
            "voicehook.commands.worker:worker",
            "Run the event workers and the submission worker until SIGTERM or Ctrl-C.",
        ),
        "dev": Entry(
            "voicehook.commands.dev:dev",
            "Run everything on embedded defaults; Ctrl-C stops it all, data stays under ./var.",
        ),
        "sign": Entry(
            "voicehook.commands.sign:sign",
            "Print `sha256=<hex>` of the file's exact bytes, keyed with SECRET.",
        ),
        "replay": Entry(
            "voicehook.commands.replay:replay",
            "Send captured deliveries again, each with its captured signature (or re-signed).",
        ),
        "doctor": Entry(
            "voicehook.commands.doctor:doctor",
            "Check configuration, database, broker, API key and storage; exit 1 if any failed.",
        ),
        "status": Entry(
            "voicehook.commands.status:status",
            "One screen of events, jobs, queues, dead letters, API budget and alerts.",
        ),
        "db": Entry("voicehook.commands.db:app", "Database schema migrations."),
        "jobs": Entry(
            "voicehook.commands.jobs:jobs_app",
            "Audio jobs: submit, list, show, resume, retry, adopt, resubmit, prune.",
        ),
        "customers": Entry("voicehook.commands.customers:app", "The business's customers."),
        "voices": Entry("voicehook.commands.voices:app", "Cloned voices."),
        "events": Entry(
            "voicehook.commands.events:app",
            "Stored webhook events: list, show, export, reprocess, prune.",
        ),
        "dead-letters": Entry(
            "voicehook.commands.dead_letters:app",
            "Dead-lettered broker messages: list, requeue, purge.",
        ),
        "storage": Entry("voicehook.commands.storage:app", "The store of audio and voice samples."),
        "endpoints": Entry(
            "voicehook.commands.notify:endpoints_app",
            "Endpoints of the business's app that notifications go to.",
        ),
        "notifications": Entry(
            "voicehook.commands.notify:notifications_app",
            "Notifications to the business's app: list, resend.",
        ),
    }


app = typer.Typer(
    cls=VoicehookGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def voicehook() -> None:
    """Verified, deduplicated, durable webhooks for the Voice Production AI API."""


def main() -> None:
    pause_collection()  # until the command's modules are loaded (`LazyGroup.get_command`)
    app()


def explain_failure(exc: BaseException) -> str | None:
    """One line for a configuration or database error a command let through, else None."""
    from config.errors import ConfigurationError  # noqa: PLC0415 - only on failure

    if isinstance(exc, ConfigurationError):
        return str(exc)
    from pydantic import ValidationError  # noqa: PLC0415 - only on failure

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        from config.settings_errors import describe_settings_error  # noqa: PLC0415

        return describe_settings_error(exc)
    from config.database_errors import describe_database_error  # noqa: PLC0415
    from config.database_settings import DEFAULT_DATABASE_URL  # noqa: PLC0415

    return describe_database_error(exc, os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
