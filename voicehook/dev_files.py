"""The files `voicehook dev` keeps under ./var: generated secrets other commands reuse.

Light on purpose (no framework import): `sign`, `jobs` and `doctor` read these without
paying for what `dev` itself starts.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Mapping
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


DEV_ENV = "dev.env"


def dev_env_text(values: Mapping[str, str]) -> str:
    """The settings of a running `voicehook dev` as shell `export` lines, values quoted."""
    header = (
        "# Written by `voicehook dev`: the settings of the processes it runs.\n"
        "# In another terminal, from this folder:  . var/dev.env\n"
    )
    return header + "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in values.items()
    )


def write_dev_env(var: Path, values: Mapping[str, str]) -> Path:
    """Write `var/dev.env` readable by its owner only (it holds the dev secrets)."""
    var.mkdir(parents=True, exist_ok=True)
    path = var / DEV_ENV
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(dev_env_text(values))
    return path
