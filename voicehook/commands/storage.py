"""`voicehook storage migrate`: move the files the service keeps into a bucket."""

from __future__ import annotations

import sys

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from config.database import make_engine
from config.logging import configure_logging
from config.settings import Settings
from storage.build import open_store
from storage.errors import ObjectStoreError
from storage.keys import LOCAL_STORE
from voicehook.ops.storage_migrate import migrate, work_to_do

app = typer.Typer(help="The store of audio and voice samples.", no_args_is_help=True)


@app.command("migrate")
def migrate_command(
    to: str = typer.Option(..., "--to", help="The target store: s3://bucket/prefix."),
    source: str = typer.Option(
        LOCAL_STORE, "--from", help="The store to copy from: `local` (AUDIO_DIR) or s3://…"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (and no progress bar)."),
) -> None:
    """Copy the jobs' audio and the voice samples into `--to`, then repoint the jobs to it.

    Resumable and idempotent: run it again after an interruption and it carries on; what the
    target already holds (same sha256) is not copied again. The bucket's endpoint and
    credentials are S3_ENDPOINT_URL and AWS_*. The source files stay; once it is done, set
    STORAGE_URL to the target and deploy.
    """
    settings = Settings()
    configure_logging(settings)
    try:
        origin, target = open_store(settings, source), open_store(settings, to)
        if origin.name == target.name:
            raise typer.BadParameter("--from and --to name the same store")
        engine = make_engine(settings)
        total = work_to_do(engine, origin)
        with Progress(
            TextColumn("copying to " + target.name),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=as_json or not sys.stderr.isatty(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task("migrate", total=total)
            result = migrate(
                engine, origin, target, settings.audio_dir, lambda: progress.advance(task)
            )
    except ObjectStoreError as exc:
        typer.echo(f"voicehook storage: {exc}", err=True)
        raise typer.Exit(1) from None
    document = {
        "from": origin.name,
        "to": target.name,
        "copied": result.copied,
        "alreadyThere": result.present,
        "repointed": result.repointed,
        "problems": result.problems,
    }
    if as_json:
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        typer.echo(
            f"{result.copied} copied, {result.present} already there, {result.repointed} jobs "
            f"repointed to {target.name}"
        )
        for key, problem in result.problems.items():
            typer.echo(f"not moved: {key}: {problem}", err=True)
    if result.problems:
        raise typer.Exit(1)
