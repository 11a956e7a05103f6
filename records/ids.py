"""Identifiers for new rows: time-ordered UUIDs (version 7), cheap to make.

Time order keeps inserts at the right edge of the primary-key index instead of scattering
them; the random bits come from a per-process generator seeded by the OS, since these ids
need to be unique, not unguessable (nothing is authorised by knowing one).
"""

from __future__ import annotations

import os
import random
import time

_random = random.Random(os.urandom(32))


def _reseed_after_fork() -> None:
    global _random  # noqa: PLW0603 - a forked child must not repeat its parent's sequence
    _random = random.Random(os.urandom(32))


os.register_at_fork(after_in_child=_reseed_after_fork)


def new_id() -> str:
    """A UUIDv7 string: 48 bits of Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    # One C call, so atomic under the GIL: threads may share the generator without a lock.
    rand = _random.getrandbits(74)
    value = (millis & 0xFFFFFFFFFFFF) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 62) << 64  # 12 bits rand_a
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & 0x3FFFFFFFFFFFFFFF  # 62 bits rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
