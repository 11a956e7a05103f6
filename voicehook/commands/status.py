"""`voicehook status`: one screen of what the database and Redis say, or `--json`."""

from __future__ import annotations

import time

import redis
import typer
from rich.console import Console

from config.database import make_engine
from config.redis_connection import redis_client
from config.settings import load_settings
from monitoring.alert_rules import Thresholds, conditions
from monitoring.alert_store import AlertStore
from monitoring.signals import read_signals
from voicehook.ops.output import json_text
from voicehook.ops.status_view import status_document, status_screen


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One screen of events, jobs, queues, dead letters, API budget and alerts."""
    settings = load_settings()
    engine = make_engine(settings, pool_size=1)
    client = redis_client(settings.redis_url) if settings.redis_url else None
    try:
        try:
            signals = read_signals(settings, engine, client)
            history = AlertStore(client).history() if client is not None else []
        except redis.RedisError as exc:
            typer.echo(f"voicehook status: Redis does not answer: {exc}", err=True)
            raise typer.Exit(1) from None
    finally:
        engine.dispose()
    thresholds = Thresholds(event_age_seconds=settings.alert_event_age_minutes * 60)
    alerts = conditions(signals, history, time.time(), thresholds)
    if as_json:
        typer.echo(json_text(status_document(signals, alerts)))
        return
    Console(highlight=False).print(status_screen(signals, alerts))
