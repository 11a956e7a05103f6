"""Webhook signature verification: a pure function over bytes, no framework in sight."""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence

from config.signing import compute_signature

_HEADER_SHAPE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def well_formed(header: str | None) -> bool:
    """Whether a signature header has the contract's shape, `sha256=<64 hex digits>`."""
    return header is not None and _HEADER_SHAPE.fullmatch(header.strip()) is not None


def verify_signature(body: bytes, header: str | None, secrets: Sequence[bytes]) -> int | None:
    """Index of the first secret (newest first) whose HMAC of `body` matches `header`, else None.

    Every secret is checked with a constant-time comparison, so the time taken says nothing
    about how much of a forged signature was right.
    """
    if header is None or not well_formed(header):
        return None
    presented = header.strip().lower().encode()
    for index, secret in enumerate(secrets):
        if hmac.compare_digest(compute_signature(body, secret).encode(), presented):
            return index
    return None
