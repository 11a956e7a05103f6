"""The one `Range: bytes=…` an audio player sends, as plain values (no framework import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, stop) of an object of `size` bytes."""

    start: int
    stop: int
    size: int

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{self.size}"


@dataclass(frozen=True)
class Unsatisfiable:
    """The range lies outside the object of `size` bytes (answered 416)."""

    size: int


def parse_range(header: str | None, size: int) -> ByteRange | Unsatisfiable | None:
    """The single range asked for; None for the whole object (no header, several ranges, or
    one this parser does not read, which RFC 9110 lets a server ignore); Unsatisfiable when
    it starts past the end."""
    bounds = _bounds(header)
    if bounds is None:
        return None
    first, last = bounds
    if first is None:  # the last N bytes
        assert last is not None
        return ByteRange(max(0, size - last), size, size) if last else Unsatisfiable(size)
    if first >= size:
        return Unsatisfiable(size)
    stop = size if last is None else min(last + 1, size)
    return ByteRange(first, stop, size) if stop > first else None


def _bounds(header: str | None) -> tuple[int | None, int | None] | None:
    """`bytes=first-last` as its two numbers (either may be missing), or None."""
    unit, _, spec = (header or "").partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    return (int(first) if first else None), (int(last) if last else None)
