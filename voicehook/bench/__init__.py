"""Benchmarks of voicehook's hot paths (`voicehook bench ...`), run as scripts, not tests.

Pure parts (`report`, `bodies`, `verify`) are plain functions over values; the rest start
and stop the processes a run needs (`servers`, `loadgen`, `redis_server`, `databases`) and
`ingest` wires them together.
"""
