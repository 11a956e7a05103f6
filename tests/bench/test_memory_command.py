"""`python -m bench memory`: the file's size, and a short real run with a smaller file."""

from __future__ import annotations

import pytest

from bench.memory import WAV_BYTES_PER_SECOND, duration_for
from tests.bench.bench_run import SMOKE_SECONDS, SMOKE_TEST_SECONDS, require_redis_server, run_bench


@pytest.mark.timeout(SMOKE_TEST_SECONDS)
def test_short_run_compares_peak_with_idle_and_ends_with_ratio() -> None:
    """A 5 MB download: idle and peak RSS printed, the job ready, the ratio last."""
    require_redis_server()
    lines = run_bench("memory", "--size-mb", "5", "--idle", "0.5", timeout=SMOKE_SECONDS)
    assert any(line.startswith("idle RSS: ") for line in lines)
    assert any(line.startswith("peak RSS: ") for line in lines)


class TestDurationFor:
    def test_wav_of_at_least_the_size(self) -> None:
        """200 MB of 16-bit mono 22.05 kHz is 4536 s (44,100 bytes a second)."""
        assert WAV_BYTES_PER_SECOND == 44_100
        assert duration_for(200) == 4536
        assert duration_for(200) * WAV_BYTES_PER_SECOND >= 200_000_000
