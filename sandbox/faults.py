"""Fault injection: which faults are on, and reproducible decisions about when they strike.

Every kind of fault draws from its own `random.Random` seeded with `"<seed>:<kind>"`, so the
same seed and the same sequence of requests give the same faults, and turning one fault on
does not shift the decisions of another.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Rate = Annotated[float, Field(ge=0.0, le=1.0)]

RateFault = Literal[
    "generation_failure_rate",
    "api_error_rate",
    "webhook_duplicate_rate",
    "webhook_delay_rate",
    "webhook_reorder_rate",
    "download_truncate_rate",
    "download_corrupt_rate",
    "download_slow_rate",
    "expired_url_rate",
]
ForcedFault = Literal["force_429", "force_402", "force_500"]

CORRUPT_HEADER_BYTES = 64
CORRUPT_SPAN_BYTES = 4096


class FaultSettings(BaseModel):
    """The fault knobs; rates are probabilities per opportunity, `force*` count the next N."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    generation_failure_rate: Rate = 0.0
    api_error_rate: Rate = 0.0
    webhook_duplicate_rate: Rate = 0.0
    webhook_delay_rate: Rate = 0.0
    webhook_reorder_rate: Rate = 0.0
    webhook_delay_seconds: float = Field(default=2.0, ge=0.0)
    download_truncate_rate: Rate = 0.0
    download_corrupt_rate: Rate = 0.0
    download_slow_rate: Rate = 0.0
    download_slow_bytes_per_second: int = Field(default=256 * 1024, gt=0)
    expired_url_rate: Rate = 0.0
    # Each POST /v1/generations answers this long after making (and charging) its generation.
    generation_answer_delay_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    force_429: int = Field(default=0, ge=0)
    force_402: int = Field(default=0, ge=0)
    force_500: int = Field(default=0, ge=0)


class FaultInjector:
    """Holds the current fault settings and answers "does this fault strike now?"."""

    def __init__(self, settings: FaultSettings, seed: int) -> None:
        self._initial = (settings, seed)
        self._settings = settings
        self._seed = seed
        self._streams: dict[str, random.Random] = {}

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    @property
    def seed(self) -> int:
        return self._seed

    def update(self, changes: Mapping[str, object]) -> FaultSettings:
        """Apply a partial update (camelCase or snake_case keys); raises ValidationError."""
        aliases = {name: field.alias or name for name, field in FaultSettings.model_fields.items()}
        camel = {aliases.get(key, key): value for key, value in changes.items()}
        merged = {**self._settings.model_dump(by_alias=True), **camel}
        self._settings = FaultSettings.model_validate(merged)
        return self._settings

    def reseed(self, seed: int) -> None:
        self._seed = seed
        self._streams.clear()

    def reset(self) -> None:
        """Back to the faults the sandbox started with, and the start of every random stream."""
        self._settings, self._seed = self._initial
        self._streams.clear()

    def stream(self, kind: str) -> random.Random:
        """The random stream for one kind of decision (also used for a fault's details)."""
        rng = self._streams.get(kind)
        if rng is None:
            rng = self._streams[kind] = random.Random(f"{self._seed}:{kind}")
        return rng

    def strikes(self, fault: RateFault) -> bool:
        """Whether a rate fault strikes at this opportunity; draws nothing when the rate is 0."""
        rate: float = getattr(self._settings, fault)
        if rate <= 0.0:
            return False
        return self.stream(fault).random() < rate

    def take_forced(self, fault: ForcedFault) -> bool:
        """Consume one of the next-N forced answers of this kind, if any are left."""
        remaining: int = getattr(self._settings, fault)
        if remaining <= 0:
            return False
        self._settings = self._settings.model_copy(update={fault: remaining - 1})
        return True


@dataclass(frozen=True)
class DownloadPlan:
    """How one download is served: whole, or cut off, corrupted (byte spans) or throttled."""

    size: int
    cut_at: int | None = None
    corrupt_spans: tuple[tuple[int, int], ...] = ()
    bytes_per_second: int | None = None


def plan_download(faults: FaultInjector, size: int) -> DownloadPlan:
    """Decide the faults of one download of a `size`-byte file.

    Truncation sends between 10% and 90% of the bytes under a full `Content-Length` and drops
    the connection. Corruption scrambles the first 64 bytes (so the container no longer parses)
    and a 4 KiB span further in, keeping the length.
    """
    cut_at = None
    if faults.strikes("download_truncate_rate"):
        cut_at = int(size * faults.stream("truncate_at").uniform(0.1, 0.9))
    spans: tuple[tuple[int, int], ...] = ()
    if faults.strikes("download_corrupt_rate"):
        middle = faults.stream("corrupt_at").randrange(max(1, size - CORRUPT_SPAN_BYTES))
        spans = ((0, min(size, CORRUPT_HEADER_BYTES)), (middle, middle + CORRUPT_SPAN_BYTES))
    slow = faults.strikes("download_slow_rate")
    return DownloadPlan(
        size=size,
        cut_at=cut_at,
        corrupt_spans=spans,
        bytes_per_second=faults.settings.download_slow_bytes_per_second if slow else None,
    )
