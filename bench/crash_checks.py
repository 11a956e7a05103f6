"""What the crash drill checks, over plain rows: the service's records and the upstream's."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.verify import Check
from records.jobs import ATTEMPTS, CUSTOMER_USAGE, JOBS

SETTLED = frozenset({"ready", "failed", "needs_review"})


@dataclass(frozen=True)
class Recorded:
    jobs: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    credits_counted: int  # on customers: ready jobs' credits


def read_recorded(engine: Engine) -> Recorded:
    with engine.connect() as conn:
        jobs = [dict(row) for row in conn.execute(select(JOBS)).mappings()]
        attempts = [dict(row) for row in conn.execute(select(ATTEMPTS)).mappings()]
        counted = sum(
            int(c or 0) for c in conn.execute(select(CUSTOMER_USAGE.c.credits_spent)).scalars()
        )
    return Recorded(jobs, attempts, counted)


def check_drill(
    recorded: Recorded,
    upstream: Sequence[Mapping[str, Any]],
    credits_spent: int,
    audio_dir: Path,
) -> list[Check]:
    """Every check of the drill (the issue's list), each with its figures."""
    tracked = [j for j in recorded.jobs if j["tracked"]]
    untracked = [j for j in recorded.jobs if not j["tracked"]]
    statuses = Counter(j["status"] for j in tracked)
    unsettled = [j["id"] for j in tracked if j["status"] not in SETTLED]
    unexplained = [
        j["id"]
        for j in tracked
        if j["status"] in ("failed", "needs_review") and not j["last_error"]
    ]
    recorded_ids = {a["generation_id"] for a in recorded.attempts if a["generation_id"]}
    upstream_ids = {str(g["id"]) for g in upstream}
    by_id = {str(g["id"]): g for g in upstream}
    script_of_job = {j["id"]: j["script"] for j in tracked}
    paid = Counter(str(g["script"]) for g in upstream if g["status"] != "failed")
    twice_paid = [s for s, n in paid.items() if n > 1 and s in script_of_job.values()]
    ready_per_job = Counter(a["job_id"] for a in recorded.attempts if a["status"] == "ready")
    tracked_scripts = set(script_of_job.values())
    strays = [
        a["generation_id"]
        for a in recorded.attempts
        if a["job_id"] in {j["id"] for j in untracked}
        and str(by_id.get(a["generation_id"], {}).get("script")) in tracked_scripts
    ]
    unknown_cost = sum(
        int(by_id[a["generation_id"]]["credits"])
        for a in recorded.attempts
        if a["status"] == "ready"
        and a["estimated_credits"] is None
        and a["generation_id"] in by_id
        and a["job_id"] in script_of_job
    )
    ready_ids = {
        a["generation_id"]
        for a in recorded.attempts
        if a["status"] == "ready" and a["job_id"] in script_of_job
    }
    # Paid generations no job of ours has ready are allowed only on a job that says why
    # (failed: its download kept failing; needs_review: an operator is asked).
    status_of_job = {j["id"]: j["status"] for j in tracked}
    holder = {a["generation_id"]: a["job_id"] for a in recorded.attempts if a["generation_id"]}
    held_by: Counter[str] = Counter()
    for g in upstream:
        if g["status"] != "failed" and str(g["id"]) not in ready_ids:
            held_by[status_of_job.get(holder.get(str(g["id"]), ""), "no job of ours")] += int(
                g["credits"]
            )
    held = sum(held_by.values())
    unexplained_held = {k: v for k, v in held_by.items() if k not in ("failed", "needs_review")}
    files = _check_files(recorded, by_id, audio_dir)
    return [
        Check(
            "every job settled",
            not unsettled and not unexplained,
            f"{dict(sorted(statuses.items()))}; unsettled {unsettled[:5]}, "
            f"without a reason {unexplained[:5]}",
        ),
        Check(
            "generations upstream == attempts recorded",
            upstream_ids == recorded_ids,
            f"{len(upstream_ids)} upstream, {len(recorded_ids)} recorded; "
            f"never recorded {sorted(upstream_ids - recorded_ids)[:5]}",
        ),
        Check(
            "credits spent == credits counted",
            credits_spent == recorded.credits_counted + unknown_cost + held
            and not unexplained_held,
            f"spent {credits_spent}; counted on ready jobs {recorded.credits_counted}, adopted "
            f"without the answer's estimate {unknown_cost}, on generations no job of ours has "
            f"ready {held} (by the holding job's status: {dict(sorted(held_by.items()))})",
        ),
        Check(
            "no second paid generation, no job ready twice",
            not twice_paid and all(n == 1 for n in ready_per_job.values()),
            f"scripts paid twice {len(twice_paid)}; most ready attempts on one job "
            f"{max(ready_per_job.values(), default=0)}",
        ),
        Check(
            "no untracked job for a tracked job's generation",
            not strays,
            f"{len(untracked)} untracked jobs, {len(strays)} of them ours {strays[:5]}",
        ),
        files,
    ]


def _check_files(
    recorded: Recorded, upstream: Mapping[str, Mapping[str, Any]], audio_dir: Path
) -> Check:
    """Every ready job's file is whole (its size upstream, its recorded sha256), and every
    file in a job's place belongs to a ready job."""
    ready = {j["audio_path"]: j for j in recorded.jobs if j["status"] == "ready"}
    generation_of = {
        a["job_id"]: a["generation_id"] for a in recorded.attempts if a["status"] == "ready"
    }
    bad: list[str] = []
    for path, job in ready.items():
        file = audio_dir / path
        if not file.is_file():
            bad.append(f"{path}: missing")
            continue
        content = file.read_bytes()
        size = upstream.get(generation_of.get(job["id"], ""), {}).get("sizeBytes")
        if hashlib.sha256(content).hexdigest() != job["audio_sha256"] or (
            size is not None and len(content) != int(size)
        ):
            bad.append(f"{path}: not the upstream's file")
    placed = (
        [p for p in audio_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
        if audio_dir.is_dir()
        else []
    )
    strays = [
        str(p.relative_to(audio_dir)) for p in placed if str(p.relative_to(audio_dir)) not in ready
    ]
    partials = list(audio_dir.rglob(".*.part")) if audio_dir.is_dir() else []
    return Check(
        "no partial files",
        not bad and not strays,
        f"{len(ready)} ready files verified; bad {bad[:3]}; files of no ready job {strays[:3]};"
        f" {len(partials)} partial downloads left for the sweeper",
    )
