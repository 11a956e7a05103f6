"""`voicehook voices`: the cloned voices, kept in step with the upstream's list."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from config.errors import ConfigurationError
from processors.voices_sync import sync_voices
from processors.worker import build_context
from voicehook.commands.settings_loading import load_settings
from voicehook.ops.output import print_json

app = typer.Typer(help="Cloned voices.", no_args_is_help=True)


@app.command("sync")
def sync(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Fetch GET /v1/voices (one API call) and mark finished clones ready."""
    settings = load_settings()
    try:
        context = build_context(settings)
    except ConfigurationError as exc:
        typer.echo(f"voicehook voices sync: {exc}", err=True)
        raise typer.Exit(2) from None
    upstream, updated = sync_voices(context)
    if as_json:
        print_json({"voices": upstream, "clonesMarkedReady": updated})
        return
    table = Table("id", "name", "kind", "language")
    for voice in upstream:
        table.add_row(
            str(voice.get("id")), str(voice.get("name")), str(voice.get("kind")),
            str(voice.get("language")),
        )  # fmt: skip
    Console().print(table)
    typer.echo(f"{updated} local clone(s) marked ready")
