"""`voicehook replay`: send captured deliveries again, over HTTP or straight into the pipeline."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import Progress

from config.database import make_engine
from config.errors import ConfigurationError
from voicehook.commands.event_changes import event_enqueuer
from voicehook.commands.settings_loading import load_settings, redis_url
from voicehook.errors import CaptureError
from voicehook.ops.capture import Capture, read_captures
from voicehook.ops.output import json_text
from voicehook.ops.replay import DEFAULT_TARGET, DirectReplay, OnResult, replay_http, unsignable
from voicehook.ops.summary import ReplayResult, ReplaySummary


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"voicehook replay: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[OnResult]:
    """A progress bar advancing once per result, when enabled (stdout is a terminal)."""
    if not enabled:
        yield lambda _result: None
        return
    with Progress(transient=True) as progress:
        task = progress.add_task("replaying", total=total)

        def advance(_result: ReplayResult) -> None:
            progress.advance(task)

        yield advance


def replay(
    paths: list[Path] = typer.Argument(
        ..., help="Export directories, JSONL files, capture files or bare body files."
    ),
    *,
    to: str = typer.Option(DEFAULT_TARGET, "--to", help="The webhook endpoint to post to."),
    secret: str | None = typer.Option(
        None,
        envvar="VOICEHOOK_REPLAY_SECRET",
        help="Re-sign every body with this secret (needed for bare bodies, or when the "
        "target's secret differs from the captured signature's).",
    ),
    direct: bool = typer.Option(
        False,
        "--direct",
        help="Inject into this service's database and queue without HTTP, verifying against "
        "VPAI_WEBHOOK_SECRETS exactly as the receiver does.",
    ),
    concurrency: int = typer.Option(1, min=1, max=64, help="Requests in flight (HTTP)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Send captured deliveries again, each with its captured signature (or re-signed).

    Exits 1 when any delivery was rejected or could not be sent, 2 on unusable input.
    """
    try:
        captures = read_captures(paths)
    except (CaptureError, OSError) as exc:
        raise _fail(str(exc)) from None
    if not captures:
        raise _fail("nothing to replay in " + ", ".join(map(str, paths)))
    key = secret.encode() if secret else None
    unsigned = unsignable(captures, key)
    if unsigned:
        raise _fail(
            f"{unsigned[0]} is a bare body (no captured signature): pass --secret to sign it"
            + (f" ({len(unsigned) - 1} more like it)" if len(unsigned) > 1 else "")
        )
    notes: list[str] = []
    with _progress(len(captures), sys.stdout.isatty() and not as_json) as on_result:
        if direct:
            summary, notes = _direct(captures, key, on_result)
        else:
            summary = replay_http(captures, to, key, concurrency=concurrency, on_result=on_result)
    if as_json:
        typer.echo(json_text(summary.document() | {"notes": notes}))
    else:
        for line in [*summary.lines(), *notes]:
            typer.echo(line)
    if not summary.ok:
        raise typer.Exit(1)


def _direct(
    captures: list[Capture], key: bytes | None, on_result: OnResult
) -> tuple[ReplaySummary, list[str]]:
    settings = load_settings()
    try:
        settings.webhook_secret_values()
        enqueue = event_enqueuer(settings) if redis_url(settings) else None
    except ConfigurationError as exc:
        raise _fail(f"--direct verifies like the receiver: {exc}") from None
    engine = make_engine(settings)
    try:
        return DirectReplay(settings, engine, enqueue).run(captures, key, on_result)
    finally:
        engine.dispose()
