"""Reading wrk's figures and printing the bench's lines."""

from __future__ import annotations

import pytest

from bench.errors import BenchError, WrkOutputError
from bench.report import (
    format_ratio,
    format_run,
    parse_duration,
    parse_wrk_report,
    redact_url,
    throughput_ratio,
)

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:41234/webhooks/voiceproductionai
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.40ms  612.33us  13.54ms   85.12%
    Req/Sec    20.00k     1.02k   21.90k    77.00%
  198975 requests in 10.00s, 31.88MB read
Requests/sec:  19897.50
Transfer/sec:      3.19MB
voicehook-bench requests=198975 duration_us=10000123 bytes=33428000 sent=199007 exhausted=0 \
connect_errors=0 read_errors=1 write_errors=0 status_errors=2 timeouts=3 \
latency_mean_us=1402.5 latency_max_us=13540 p50_us=1340 p90_us=2100 p99_us=6490 p999_us=10530
"""


def report_with(requests: int, duration_us: int) -> str:
    return WRK_OUTPUT.replace("requests=198975", f"requests={requests}").replace(
        "duration_us=10000123", f"duration_us={duration_us}"
    )


class TestParseWrkReport:
    def test_reads_every_figure(self) -> None:
        """The report line's values land in their fields, with their types."""
        report = parse_wrk_report(WRK_OUTPUT)
        assert report.requests == 198975
        assert report.sent == 199007
        assert report.p50_us == 1340
        assert report.p99_us == 6490
        assert report.latency_mean_us == 1402.5
        assert report.requests_per_second == pytest.approx(19897.26, abs=0.01)

    def test_counts_every_kind_of_error(self) -> None:
        """Socket errors, timeouts and non-2xx answers all count as errors."""
        report = parse_wrk_report(WRK_OUTPUT)
        assert report.errors == 6
        assert report.acknowledged == 198973

    def test_missing_report_line_is_an_error(self) -> None:
        """Output without the script's line (e.g. a Lua error) is refused, not read as zeros."""
        with pytest.raises(WrkOutputError, match="no 'voicehook-bench' line"):
            parse_wrk_report("PANIC: unprotected error in call to Lua API\n")

    def test_incomplete_report_line_is_an_error(self) -> None:
        """A report that lacks a figure names the missing one."""
        with pytest.raises(WrkOutputError, match="p999_us"):
            parse_wrk_report(WRK_OUTPUT.replace(" p999_us=10530", ""))


class TestParseDuration:
    @pytest.mark.parametrize(
        ("text", "seconds"), [("10s", 10), ("10", 10), ("2m", 120), ("1h", 3600), ("0", 0)]
    )
    def test_whole_units(self, text: str, seconds: int) -> None:
        """wrk's whole-unit durations convert to seconds."""
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("text", ["1.5s", "10ms", "", "s", "-1s"])
    def test_refuses_what_wrk_cannot_take(self, text: str) -> None:
        """Fractions, milliseconds and junk are refused."""
        with pytest.raises(BenchError):
            parse_duration(text)


class TestThroughputRatio:
    def test_receiver_over_bare(self) -> None:
        """The ratio divides requests per second, not request counts."""
        receiver = parse_wrk_report(report_with(5_000, 10_000_000))
        bare = parse_wrk_report(report_with(40_000, 20_000_000))
        assert throughput_ratio(receiver, bare) == pytest.approx(0.25)

    def test_no_bare_requests_is_an_error(self) -> None:
        """A bare run that completed nothing gives no ratio rather than a division error."""
        receiver = parse_wrk_report(WRK_OUTPUT)
        with pytest.raises(BenchError):
            throughput_ratio(receiver, parse_wrk_report(report_with(0, 10_000_000)))

    def test_ratio_line_has_three_decimals(self) -> None:
        """The last line's exact shape."""
        assert format_ratio(0.51234) == "ratio=0.512"
        assert format_ratio(1) == "ratio=1.000"


class TestFormatRun:
    def test_shows_rate_percentiles_and_errors(self) -> None:
        """The human line carries req/s, p50 and p99 in milliseconds, and the error count."""
        line = format_run("receiver", parse_wrk_report(WRK_OUTPUT))
        assert line.startswith("receiver: 19,897 req/s  p50 1.34 ms  p99 6.49 ms")
        assert "6 errors" in line


class TestRedactUrl:
    def test_masks_password(self) -> None:
        """A password never reaches the printed settings."""
        assert (
            redact_url("postgresql://bench:hunter2@db:5432/app")
            == "postgresql://bench:***@db:5432/app"
        )

    @pytest.mark.parametrize(
        "url", ["postgresql://postgres@127.0.0.1/test", "sqlite:////tmp/x.db", "redis://h:1/0"]
    )
    def test_leaves_urls_without_password(self, url: str) -> None:
        """URLs without a password are printed as they are."""
        assert redact_url(url) == url
