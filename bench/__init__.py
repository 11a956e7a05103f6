"""Benchmarks of voicehook's hot paths (`python -m bench ...`), run as scripts, not tests.

They are tools of the project, not part of the shipped service: the wheel leaves them out,
and nothing in the shipped packages imports them.

Pure parts (`report`, `bodies`, `verify`) are plain functions over values; the rest start
and stop the processes a run needs (`servers`, `loadgen`, `redis_server`, `databases`) and
`ingest` wires them together.
"""
