"""Benchmarks of voicehook's hot paths (`python -m bench ...`), run as scripts, not tests.

They are tools of the project, not part of the shipped service: the wheel leaves them out,
and nothing in the shipped packages imports them.

`cli` is the command line. Pure parts (`report`, `bodies`, `verify`, the parsers of
`process_stats`) are plain functions over values; the rest start and stop the processes a
run needs (`servers`, `sandbox_process`, `worker_process` and `throwaway_redis`, on
`voicehook.child_process`) and what it works with (`loadgen` runs wrk, `databases`), and
`ingest`, `e2e`, `budget` and `memory` wire them together.
"""
