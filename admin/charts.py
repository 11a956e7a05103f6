"""Small server-rendered bar charts: plain numbers in, SVG rectangles out (no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 80


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series (its colour class), 0 at the bottom of a stack
    label: str  # the value, for a <title> (read by screen readers and on hover)


def stacked_bars(columns: Sequence[Sequence[int]], labels: Sequence[str]) -> list[Bar]:
    """Bars of one column per entry, each column's series stacked bottom up, scaled so the
    tallest column fills the chart."""
    if not columns:
        return []
    tallest = max((sum(column) for column in columns), default=0) or 1
    step = WIDTH / len(columns)
    bars = []
    for index, column in enumerate(columns):
        bottom = float(HEIGHT)
        for series, value in enumerate(column):
            if value <= 0:
                continue
            height = HEIGHT * value / tallest
            bottom -= height
            label = f"{labels[index]}: {value}"
            bars.append(Bar(index * step, bottom, max(step - 1, 1), height, series, label))
    return bars
