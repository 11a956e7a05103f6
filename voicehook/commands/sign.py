"""`voicehook sign`: the signature header for a body, for use with curl."""

from __future__ import annotations

from pathlib import Path

import typer

from config.signing import compute_signature
from voicehook.dev_files import VAR, dev_webhook_secret


def sign(
    body: Path = typer.Argument(..., exists=True, dir_okay=False, help="File holding the body."),
    secret: str | None = typer.Option(
        None, envvar="VOICEHOOK_SIGN_SECRET", help="Signing secret (default: the dev secret)."
    ),
) -> None:
    """Print `sha256=<hex>` of the file's exact bytes, keyed with SECRET."""
    key = secret if secret else dev_webhook_secret(VAR)
    typer.echo(compute_signature(body.read_bytes(), key.encode()))
