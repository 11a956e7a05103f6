"""The `voicehook` console script: one Typer app, one module per command group."""

import typer

from voicehook.commands import db, serve

app = typer.Typer(
    help="Verified, deduplicated, durable webhooks for the Voice Production AI API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.command()(serve.web)
app.command()(serve.sweeper)


def main() -> None:
    app()
