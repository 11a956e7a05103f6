"""Webhook signature verification: a pure function over bytes, no framework in sight."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from config.signing import SIGNATURE_PREFIX

_DIGEST_SIZE = 32  # SHA-256


def presented_digest(header: str | None) -> bytes | None:
    """The digest a signature header carries, if it has the contract's shape
    `sha256=<64 hex digits>` (surrounding whitespace allowed); else None."""
    if header is None:
        return None
    value = header.strip()
    hex_digits = value[len(SIGNATURE_PREFIX) :]
    if not value.startswith(SIGNATURE_PREFIX) or len(hex_digits) != 2 * _DIGEST_SIZE:
        return None
    try:
        digest = bytes.fromhex(hex_digits)
    except ValueError:
        return None
    # fromhex skips spaces between digit pairs: 64 characters holding any make fewer bytes.
    return digest if len(digest) == _DIGEST_SIZE else None


def verify_signature(body: bytes, header: str | None, secrets: Sequence[bytes]) -> int | None:
    """Index of the first secret (newest first) whose HMAC of `body` matches `header`, else None.

    Each comparison takes constant time, so the time taken says nothing about how much of a
    forged signature was right.
    """
    presented = presented_digest(header)
    if presented is None:
        return None
    for index, secret in enumerate(secrets):
        if hmac.compare_digest(hmac.digest(secret, body, "sha256"), presented):
            return index
    return None
