"""The checks that a receiver run kept every promise its acknowledgements made."""

from __future__ import annotations

import dataclasses

import orjson

from bench.report import WrkReport
from bench.verify import Check, QueueState, StoredState, check_log, verify_ingest

IDS = frozenset({"e1", "e2", "e3"})
CLEAN_RUN = WrkReport(
    requests=3,
    duration_us=1_000_000,
    bytes=300,
    sent=3,
    exhausted=0,
    connect_errors=0,
    read_errors=0,
    write_errors=0,
    status_errors=0,
    timeouts=0,
    latency_mean_us=100.0,
    latency_max_us=200,
    p50_us=100,
    p90_us=150,
    p99_us=190,
    p999_us=200,
)
STORED = StoredState(events=3, deliveries=3, duplicate_deliveries=0, queued_events=3, event_ids=IDS)
QUEUE = QueueState(length=3, stored_messages=3, event_ids=IDS)


def failed(checks: list[Check]) -> set[str]:
    return {check.name for check in checks if not check.passed}


class TestVerifyIngest:
    def test_consistent_run_passes(self) -> None:
        """Clean answers, stored once, queued and enqueued: every check passes."""
        assert failed(verify_ingest([CLEAN_RUN], STORED, QUEUE)) == set()

    def test_error_answers_fail(self) -> None:
        """Any non-2xx answer or socket error fails the run."""
        run = dataclasses.replace(CLEAN_RUN, status_errors=1)
        assert "answers" in failed(verify_ingest([run], STORED, QUEUE))

    def test_running_out_of_bodies_fails(self) -> None:
        """A thread that ran out of unique bodies makes the run untrustworthy."""
        run = dataclasses.replace(CLEAN_RUN, exhausted=1)
        checks = verify_ingest([run], STORED, QUEUE)
        assert "answers" in failed(checks)
        assert "--requests" in checks[0].detail

    def test_fewer_events_than_acknowledged_fails(self) -> None:
        """An acknowledged delivery missing from the database is a broken promise."""
        run = dataclasses.replace(CLEAN_RUN, requests=4, sent=4)
        assert "durable" in failed(verify_ingest([run], STORED, QUEUE))

    def test_in_flight_deliveries_may_be_stored(self) -> None:
        """Sent but unanswered when wrk stopped: stored without being acknowledged is fine."""
        run = dataclasses.replace(CLEAN_RUN, requests=2, sent=3)
        assert failed(verify_ingest([run], STORED, QUEUE)) == set()

    def test_duplicates_fail(self) -> None:
        """Every body was unique, so a duplicate delivery means something resent."""
        stored = dataclasses.replace(STORED, deliveries=4, duplicate_deliveries=1)
        assert "unique" in failed(verify_ingest([CLEAN_RUN], stored, QUEUE))

    def test_unmarked_events_fail(self) -> None:
        """Events enqueued but still `received` were never marked queued."""
        stored = dataclasses.replace(STORED, queued_events=2)
        assert "marked queued" in failed(verify_ingest([CLEAN_RUN], stored, QUEUE))

    def test_queue_must_hold_exactly_the_stored_events(self) -> None:
        """A message for another event, or a missing one, fails the enqueue check."""
        queue = dataclasses.replace(QUEUE, event_ids=frozenset({"e1", "e2", "other"}))
        assert "enqueued" in failed(verify_ingest([CLEAN_RUN], STORED, queue))

    def test_runs_are_summed(self) -> None:
        """Warmup and measured runs together account for the stored events."""
        warmup = dataclasses.replace(CLEAN_RUN, requests=1, sent=1)
        measured = dataclasses.replace(CLEAN_RUN, requests=2, sent=2)
        assert failed(verify_ingest([warmup, measured], STORED, QUEUE)) == set()


class TestCheckLog:
    def test_info_lines_pass(self) -> None:
        """JSON lines at info are what a healthy run writes."""
        line = orjson.dumps({"event": "webhook.accepted", "level": "info"}).decode()
        assert check_log(f"{line}\n{line}\n").passed

    def test_warnings_fail_and_are_quoted(self) -> None:
        """A warning fails the check and the first one is shown."""
        line = orjson.dumps({"event": "ingest.enqueue_failed", "level": "warning"}).decode()
        check = check_log(line)
        assert not check.passed
        assert "ingest.enqueue_failed" in check.detail

    def test_raw_tracebacks_fail(self) -> None:
        """A line that is not JSON (a raw traceback) fails the check."""
        assert not check_log("Traceback (most recent call last):\n").passed
