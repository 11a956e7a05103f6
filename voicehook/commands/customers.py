"""`voicehook customers`: add one, list them with their usage."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from config.database import make_engine
from config.database_settings import read_database_settings
from records import customer_repo
from voicehook.commands.settings_loading import load_settings
from voicehook.ops.output import print_json

app = typer.Typer(help="The business's customers.", no_args_is_help=True)


@app.command("add")
def add_customer(
    external_ref: str = typer.Argument(..., help="Your reference for the customer."),
    name: str = typer.Argument(..., help="Display name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a customer (or show the existing one with this reference)."""
    # The receiver's request models are the add's alone: `customers list` starts without.
    from receiver.job_requests import CustomerRequest  # noqa: PLC0415 - start-up time

    request = CustomerRequest(external_ref=external_ref, name=name)
    customer, created = customer_repo.upsert_customer(
        make_engine(load_settings()), request.external_ref, request.name
    )
    if as_json:
        print_json({"id": customer.id, "externalRef": customer.external_ref, "created": created})
    else:
        typer.echo(f"customer {customer.id} ({'created' if created else 'exists'})")


@app.command("list")
def list_customers(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Customers with their usage."""
    rows = customer_repo.list_customers(make_engine(read_database_settings()))
    documents = [
        {
            "id": c.id,
            "externalRef": c.external_ref,
            "name": c.name,
            "audioSeconds": c.audio_seconds,
            "creditsSpent": c.credits_spent,
            "jobsReady": c.jobs_ready,
            "jobsFailed": c.jobs_failed,
        }
        for c in rows
    ]
    if as_json:
        print_json(documents)
        return
    table = Table("id", "ref", "name", "audio s", "credits", "ready", "failed")
    for d in documents:
        table.add_row(
            str(d["id"]),
            str(d["externalRef"]),
            str(d["name"]),
            f"{d['audioSeconds']:.1f}",
            str(d["creditsSpent"]),
            str(d["jobsReady"]),
            str(d["jobsFailed"]),
        )
    Console().print(table)
