"""The `voicehook` console script: one Typer app, one module per command group."""

import typer

from voicehook.commands import (
    db,
    dev,
    doctor,
    events,
    jobs,
    notify,
    replay,
    sandbox,
    serve,
    sign,
    worker,
)

app = typer.Typer(
    help="Verified, deduplicated, durable webhooks for the Voice Production AI API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
sandbox.register(app)
app.command()(serve.web)
app.command()(serve.sweeper)
app.command()(worker.worker)
app.command()(dev.dev)
app.command()(sign.sign)
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(jobs.customers_app, name="customers")
app.add_typer(jobs.voices_app, name="voices")
app.add_typer(events.app, name="events")
app.add_typer(notify.endpoints_app, name="endpoints")
app.add_typer(notify.notifications_app, name="notifications")
app.command()(replay.replay)
app.command()(doctor.doctor)


def main() -> None:
    app()
