"""From the sandbox's delivery log and the job records to stage latencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.e2e import script_of
from bench.e2e_latency import (
    Completion,
    Post,
    arrival_rate,
    busiest_second,
    first_posts,
    goal_ratio,
    parse_timestamp,
    stages,
)
from bench.errors import BenchError
from bench.percentiles import LatencySummary

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def stamp(ms: int) -> str:
    return at(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at(ms).microsecond // 1000:03d}Z"


def delivery(
    resource_id: str, *attempts: tuple[int, int | None, int | None], event: str = "generation.ready"
) -> dict[str, Any]:
    return {
        "event": event,
        "resourceId": resource_id,
        "attempts": [
            {
                "number": number,
                "startedAt": stamp(start),
                "finishedAt": stamp(end) if end is not None else None,
                "statusCode": status,
            }
            for number, (start, end, status) in enumerate(attempts, start=1)
        ],
    }


class TestParseTimestamp:
    def test_sandbox_format(self) -> None:
        """`…T…123Z` is an aware UTC datetime with its milliseconds."""
        assert parse_timestamp("2025-01-01T00:00:01.250Z") == at(1250)


class TestFirstPosts:
    def test_first_attempt_of_each_generation(self) -> None:
        """A retried delivery counts from its first attempt, with that attempt's answer."""
        posts = first_posts([delivery("g1", (0, 5000, None), (6000, 6010, 202))])
        assert posts == {"g1": Post("g1", at(0), at(5000), None)}

    def test_earliest_of_duplicates(self) -> None:
        """Two deliveries of one event (an injected duplicate): the earlier POST counts."""
        posts = first_posts([delivery("g1", (30, 40, 200)), delivery("g1", (10, 20, 202))])
        assert posts["g1"].started_at == at(10)

    def test_other_events_and_unsent_deliveries_are_ignored(self) -> None:
        """Only generation.ready deliveries that were attempted."""
        posts = first_posts(
            [
                delivery("g1", (0, 1, 202), event="generation.failed"),
                {"event": "generation.ready", "resourceId": "g2", "attempts": []},
            ]
        )
        assert posts == {}


class TestStages:
    def test_each_stage_from_the_post(self) -> None:
        """Total, acknowledgement, queueing and processing, in seconds."""
        posts = {"g1": Post("g1", at(0), at(4), 202)}
        found = stages(posts, [Completion("g1", event_started_at=at(30), ready_at=at(50))])
        assert found.total == [pytest.approx(0.050)]
        assert found.acknowledged == [pytest.approx(0.004)]
        assert found.to_worker == [pytest.approx(0.030)]
        assert found.in_worker == [pytest.approx(0.020)]

    def test_missing_posts_and_unready_jobs_are_counted_not_measured(self) -> None:
        """A job without a logged webhook, or not ready, is counted apart."""
        posts = {"g1": Post("g1", at(0), None, None)}
        found = stages(
            posts,
            [Completion("g1", None, None), Completion("g2", None, at(9))],
        )
        assert found.total == []
        assert (found.not_ready, found.unposted) == (1, 1)


class TestRates:
    def test_arrival_rate_between_first_and_last(self) -> None:
        """21 webhooks 50 ms apart: 20 a second."""
        assert arrival_rate([at(50 * n) for n in range(21)]) == pytest.approx(20.0)

    def test_arrival_rate_needs_two(self) -> None:
        """One webhook has no rate."""
        with pytest.raises(BenchError):
            arrival_rate([at(0)])

    def test_busiest_second(self) -> None:
        """The most webhooks within any one-second span."""
        moments = [at(0), at(100), at(900), at(1000), at(1050), at(1060), at(3000)]
        assert busiest_second(moments) == 5


class TestGoalRatio:
    def test_smaller_of_the_two_ratios(self) -> None:
        """p50 at half its goal and p99 at its goal: ratio 1, set by p99."""
        summary = LatencySummary(count=10, p50=0.125, p90=0.5, p99=1.0, max=1.2)
        assert goal_ratio(summary, 0.25, 1.0) == pytest.approx(1.0)

    def test_a_missed_goal_is_below_one(self) -> None:
        """p50 twice its goal: ratio 0.5."""
        summary = LatencySummary(count=10, p50=0.5, p90=0.5, p99=0.5, max=0.5)
        assert goal_ratio(summary, 0.25, 1.0) == pytest.approx(0.5)


class TestScript:
    def test_exact_length(self) -> None:
        """Scripts are as long as asked (the sandbox speaks them at ~14 characters a second)."""
        assert len(script_of(100)) == 100
        assert len(script_of(1000)) == 1000
