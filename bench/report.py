"""Reading wrk's figures and turning them into the lines the bench prints."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from bench.errors import BenchError, WrkOutputError

REPORT_PREFIX = "voicehook-bench "
_DURATION = re.compile(r"(\d+)\s*(s|m|h)?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True, slots=True)
class WrkReport:
    """The figures `ingest.lua` prints in its `done()`; latencies in microseconds."""

    requests: int  # responses completed, whatever their status
    duration_us: int
    bytes: int
    sent: int  # distinct bodies handed out, including those still in flight at the end
    exhausted: int  # times a thread ran out of bodies (then it stops)
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int  # responses with status >= 400
    timeouts: int
    latency_mean_us: float
    latency_max_us: int
    p50_us: int
    p90_us: int
    p99_us: int
    p999_us: int

    @property
    def requests_per_second(self) -> float:
        return self.requests / (self.duration_us / 1_000_000) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        """Every failure wrk counted: socket errors, timeouts and non-2xx/3xx answers."""
        return (
            self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.status_errors
            + self.timeouts
        )

    @property
    def acknowledged(self) -> int:
        """Responses with a success status."""
        return self.requests - self.status_errors


def parse_wrk_report(output: str) -> WrkReport:
    """The report in wrk's stdout; WrkOutputError if it is missing or incomplete."""
    lines = [line for line in output.splitlines() if line.startswith(REPORT_PREFIX)]
    if not lines:
        raise WrkOutputError(f"wrk printed no {REPORT_PREFIX.strip()!r} line:\n{output}")
    pairs = dict(item.split("=", 1) for item in lines[-1].removeprefix(REPORT_PREFIX).split())
    values: dict[str, int | float] = {}
    for field in fields(WrkReport):
        raw = pairs.get(field.name)
        if raw is None:
            raise WrkOutputError(f"wrk report lacks {field.name}: {lines[-1]}")
        values[field.name] = float(raw) if field.type == "float" else int(raw)
    return WrkReport(**values)  # type: ignore[arg-type]


def parse_duration(text: str) -> int:
    """Whole seconds from `10`, `10s`, `2m` or `1h` (wrk takes whole units only)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise BenchError(f"not a duration: {text!r} (use e.g. 10s, 2m)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def throughput_ratio(receiver: WrkReport, bare: WrkReport) -> float:
    """Receiver requests per second over the bare endpoint's, in the same run."""
    if bare.requests_per_second == 0:
        raise BenchError("the bare endpoint completed no requests; no ratio to compute")
    return receiver.requests_per_second / bare.requests_per_second


def format_run(label: str, report: WrkReport) -> str:
    """One human-readable line of a measured run."""
    return (
        f"{label}: {report.requests_per_second:,.0f} req/s"
        f"  p50 {report.p50_us / 1000:.2f} ms  p99 {report.p99_us / 1000:.2f} ms"
        f"  p99.9 {report.p999_us / 1000:.2f} ms  max {report.latency_max_us / 1000:.2f} ms"
        f"  ({report.requests:,} responses in {report.duration_us / 1e6:.2f} s,"
        f" {report.errors} errors)"
    )


def format_ratio(ratio: float) -> str:
    """The bench's last line."""
    return f"ratio={ratio:.3f}"


def redact_url(url: str) -> str:
    """`url` with its password masked, for printing."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}"
