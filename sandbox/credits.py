"""What a generation costs."""

from __future__ import annotations

import math

CHARACTERS_PER_CREDIT = 100


def estimate_credits(script: str) -> int:
    """One credit per started 100 characters of script, at least one (`Hello, world!` → 1)."""
    return max(1, math.ceil(len(script) / CHARACTERS_PER_CREDIT))
