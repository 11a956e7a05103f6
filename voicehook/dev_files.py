"""The files `voicehook dev` keeps under ./var: generated secrets other commands reuse.

Light on purpose (no framework import): `sign`, `jobs` and `doctor` read these without
paying for what `dev` itself starts.
"""

from __future__ import annotations

import secrets
from pathlib import Path

VAR = Path("var")


def dev_secret(var: Path, name: str, prefix: str) -> str:
    """A generated secret kept under ./var, so restarts (and other tools) reuse it."""
    path = var / name
    if path.exists():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    value = prefix + secrets.token_hex(16)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def dev_webhook_secret(var: Path) -> str:
    return dev_secret(var, "dev-webhook-secret", "whsec_dev_")
