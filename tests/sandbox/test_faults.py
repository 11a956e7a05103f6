"""Fault decisions: seeded, independent per kind, and the plan of one download."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sandbox.faults import FaultInjector, FaultSettings, RateFault, plan_download


def decisions(injector: FaultInjector, fault: RateFault, count: int = 200) -> list[bool]:
    return [injector.strikes(fault) for _ in range(count)]


class TestFaultInjector:
    def test_the_same_seed_gives_the_same_faults(self) -> None:
        """Two injectors with one seed and one configuration decide identically."""
        settings = FaultSettings(generation_failure_rate=0.3)
        first = decisions(FaultInjector(settings, seed=42), "generation_failure_rate")
        second = decisions(FaultInjector(settings, seed=42), "generation_failure_rate")
        other = decisions(FaultInjector(settings, seed=43), "generation_failure_rate")
        assert first == second
        assert first != other

    def test_rates_are_honoured_roughly(self) -> None:
        """A rate of 0.3 strikes about 30% of the time; 0 never; 1 always."""
        injector = FaultInjector(
            FaultSettings(api_error_rate=0.3, webhook_duplicate_rate=1.0), seed=1
        )
        assert 0.2 < sum(decisions(injector, "api_error_rate", 1000)) / 1000 < 0.4
        assert all(decisions(injector, "webhook_duplicate_rate"))
        assert not any(decisions(injector, "download_truncate_rate"))

    def test_kinds_draw_from_separate_streams(self) -> None:
        """Turning one fault on does not change the decisions of another."""
        alone = FaultInjector(FaultSettings(api_error_rate=0.5), seed=9)
        mixed = FaultInjector(FaultSettings(api_error_rate=0.5, download_slow_rate=0.5), seed=9)
        expected = decisions(alone, "api_error_rate", 50)
        observed = []
        for _ in range(50):
            mixed.strikes("download_slow_rate")
            observed.append(mixed.strikes("api_error_rate"))
        assert observed == expected

    def test_forced_answers_are_used_up(self) -> None:
        """`force429: 2` answers exactly the next two opportunities."""
        injector = FaultInjector(FaultSettings(force_429=2), seed=0)
        assert [injector.take_forced("force_429") for _ in range(3)] == [True, True, False]
        assert injector.settings.force_429 == 0

    def test_updates_take_camel_case_and_validate(self) -> None:
        """The control API's camelCase keys apply; out-of-range or unknown keys are refused."""
        injector = FaultInjector(FaultSettings(), seed=0)
        assert injector.update({"downloadCorruptRate": 0.5}).download_corrupt_rate == 0.5
        with pytest.raises(ValidationError):
            injector.update({"downloadCorruptRate": 1.5})
        with pytest.raises(ValidationError):
            injector.update({"noSuchFault": 1})

    def test_reset_restores_settings_seed_and_streams(self) -> None:
        """After a reset the injector behaves exactly as it did when new."""
        injector = FaultInjector(FaultSettings(api_error_rate=0.5), seed=5)
        expected = decisions(injector, "api_error_rate", 30)
        injector.update({"api_error_rate": 0.0})
        injector.reseed(6)
        injector.reset()
        assert decisions(injector, "api_error_rate", 30) == expected


class TestPlanDownload:
    def test_no_faults_serve_the_whole_file(self) -> None:
        """Without download faults the plan is the plain file."""
        plan = plan_download(FaultInjector(FaultSettings(), seed=0), 10_000)
        assert (plan.cut_at, plan.corrupt_spans, plan.bytes_per_second) == (None, (), None)

    def test_truncation_cuts_between_a_tenth_and_nine_tenths(self) -> None:
        """A truncated download stops somewhere inside the file."""
        injector = FaultInjector(FaultSettings(download_truncate_rate=1.0), seed=3)
        cuts = [plan_download(injector, 10_000).cut_at for _ in range(100)]
        assert all(cut is not None and 1_000 <= cut <= 9_000 for cut in cuts)

    def test_corruption_hits_the_header_and_one_span(self) -> None:
        """A corrupted download scrambles the first 64 bytes and a 4 KiB span inside the file."""
        injector = FaultInjector(FaultSettings(download_corrupt_rate=1.0), seed=3)
        plan = plan_download(injector, 100_000)
        header, span = plan.corrupt_spans
        assert header == (0, 64)
        assert span[1] - span[0] == 4096
        assert 0 <= span[0] < 100_000

    def test_slow_downloads_use_the_configured_speed(self) -> None:
        """A throttled download is served at `downloadSlowBytesPerSecond`."""
        settings = FaultSettings(download_slow_rate=1.0, download_slow_bytes_per_second=1234)
        assert plan_download(FaultInjector(settings, seed=0), 10).bytes_per_second == 1234
