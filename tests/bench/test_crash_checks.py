"""The crash drill's checks over plain rows: each can fail, and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.crash_checks import Recorded, check_drill


def tracked_job(job_id: str, status: str, last_error: str | None = None) -> dict[str, Any]:
    return {
        "id": job_id,
        "tracked": True,
        "status": status,
        "last_error": last_error,
        "script": f"script of {job_id}",
        "audio_path": f"{job_id}.wav" if status == "ready" else None,
        "audio_sha256": None,
    }


def attempt(job_id: str, generation_id: str, status: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "generation_id": generation_id,
        "status": status,
        "estimated_credits": 2,
    }


def generation(generation_id: str, job_id: str, status: str = "ready") -> dict[str, Any]:
    return {"id": generation_id, "script": f"script of {job_id}", "status": status, "credits": 2}


def credits_check(recorded: Recorded, upstream: list[dict[str, Any]], spent: int, tmp: Path) -> Any:
    [check] = [
        c for c in check_drill(recorded, upstream, spent, tmp) if c.name.startswith("credits")
    ]
    return check


class TestCredits:
    def test_a_paid_generation_on_a_failed_job_is_shown_and_allowed(self, tmp_path: Path) -> None:
        """The download kept failing: the job says so, the charge is counted as held."""
        recorded = Recorded(
            [tracked_job("j1", "failed", "download kept failing")],
            [attempt("j1", "g1", "submitted")],
            credits_counted=0,
        )
        check = credits_check(recorded, [generation("g1", "j1")], 2, tmp_path)
        assert check.passed, check.detail
        assert "'failed': 2" in check.detail

    def test_a_paid_generation_on_a_job_that_says_nothing_fails(self, tmp_path: Path) -> None:
        """An orphaned charge beside a ready job (the issue's double charge) is no excuse."""
        recorded = Recorded(
            [tracked_job("j1", "ready")],
            [attempt("j1", "g1", "ready"), attempt("j1", "g2", "abandoned")],
            credits_counted=2,
        )
        upstream = [generation("g1", "j1"), generation("g2", "j1")]
        check = credits_check(recorded, upstream, 4, tmp_path)
        assert not check.passed
        assert "'ready': 2" in check.detail

    def test_spent_must_equal_counted(self, tmp_path: Path) -> None:
        recorded = Recorded(
            [tracked_job("j1", "ready")], [attempt("j1", "g1", "ready")], credits_counted=2
        )
        assert credits_check(recorded, [generation("g1", "j1")], 2, tmp_path).passed
        assert not credits_check(recorded, [generation("g1", "j1")], 3, tmp_path).passed
