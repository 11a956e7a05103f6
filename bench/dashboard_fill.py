"""Filling a migrated database with N events (one delivery each) and N/10 jobs, generated
by the database itself (a recursive CTE on SQLite, generate_series on PostgreSQL), spread
over the last week so the last hour holds ~N/168 deliveries."""

from __future__ import annotations

from sqlalchemy import Engine, text

SPREAD_SECONDS = 7 * 24 * 3600

# Statuses by `g % 100`: mostly processed, as a service that keeps up has them.
EVENT_STATUS = """CASE WHEN {g} % 100 < 88 THEN 'processed' WHEN {g} % 100 < 94 THEN 'failed'
  WHEN {g} % 100 < 97 THEN 'ignored' WHEN {g} % 100 < 98 THEN 'queued'
  WHEN {g} % 100 < 99 THEN 'received' ELSE 'processing' END"""
EVENT_TYPE = """CASE WHEN {g} % 10 < 7 THEN 'generation.ready' WHEN {g} % 10 < 9
  THEN 'generation.failed' ELSE 'voice.cloned' END"""
JOB_STATUS = """CASE WHEN {g} % 100 < 85 THEN 'ready' WHEN {g} % 100 < 92 THEN 'failed'
  WHEN {g} % 100 < 95 THEN 'blocked' WHEN {g} % 100 < 98 THEN 'submitted' ELSE 'pending' END"""

SQLITE_SEQUENCE = "WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n)"
# SQLite keeps UTC times as 'YYYY-MM-DD HH:MM:SS.ffffff' text (records/types.py).
SQLITE_AGO = (
    "strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || ({g} * :spread / :n) || ' seconds') || '.000000'"
)


def fill(engine: Engine, events: int) -> None:
    """`events` events with a delivery each, and a tenth as many jobs."""
    jobs = max(1, events // 10)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for statement, n in _sqlite_statements(events, jobs):
                conn.execute(text(statement), {"n": n, "spread": SPREAD_SECONDS})
        else:
            values = {"n": events, "jobs": jobs, "spread": SPREAD_SECONDS}
            for statement in _postgres_statements():
                conn.execute(text(statement), values)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name != "sqlite" else "ANALYZE"))


def _sqlite_statements(events: int, jobs: int) -> list[tuple[str, int]]:
    ago = SQLITE_AGO.format(g="g")
    return [
        (
            f"""{SQLITE_SEQUENCE} INSERT INTO events (id, type, resource_id, dedup_key, status,
            attempts, received_at, updated_at)
            SELECT printf('%036d', g), {EVENT_TYPE.format(g="g")}, 'gen-' || g, 'k:' || g,
              {EVENT_STATUS.format(g="g")}, 1, {ago}, {ago} FROM seq""",
            events,
        ),
        (
            f"""{SQLITE_SEQUENCE} INSERT INTO deliveries (event_id, received_at, remote_addr,
            headers, body, body_size, secret_fingerprint, duplicate)
            SELECT printf('%036d', g), {ago}, '10.0.0.1', '{{}}', NULL, 200, 'bench', g % 50 = 0
            FROM seq""",
            events,
        ),
        (
            f"""{SQLITE_SEQUENCE} INSERT INTO jobs (id, tracked, format, settings, status,
            attempts_made, max_attempts, credits, created_at, updated_at)
            SELECT printf('j%035d', g), 1, 'mp3', '{{}}', {JOB_STATUS.format(g="g")}, 1, 3, 0,
              {ago}, {ago} FROM seq""",
            jobs,
        ),
    ]


def _postgres_statements() -> list[str]:
    ago = "now() - make_interval(secs => g::float8 * :spread / :n)"
    return [
        f"""INSERT INTO events (id, type, resource_id, dedup_key, status, attempts,
            received_at, updated_at)
            SELECT lpad(g::text, 36, '0'), {EVENT_TYPE.format(g="g")}, 'gen-' || g, 'k:' || g,
              {EVENT_STATUS.format(g="g")}, 1, {ago}, {ago} FROM generate_series(1, :n) g""",
        f"""INSERT INTO deliveries (event_id, received_at, remote_addr, headers, body,
            body_size, secret_fingerprint, duplicate)
            SELECT lpad(g::text, 36, '0'), {ago}, '10.0.0.1', '{{}}', NULL, 200, 'bench',
              g % 50 = 0 FROM generate_series(1, :n) g""",
        f"""INSERT INTO jobs (id, tracked, format, settings, status, attempts_made,
            max_attempts, credits, created_at, updated_at)
            SELECT 'j' || lpad(g::text, 35, '0'), true, 'mp3', '{{}}', {JOB_STATUS.format(g="g")},
              1, 3, 0, {ago}, {ago} FROM generate_series(1, :jobs) g""",
    ]
