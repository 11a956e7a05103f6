"""`python -m bench <ingest|e2e|budget|memory|startup|crash> ...` from the repository's root."""

from bench.cli import app

app(prog_name="python -m bench")
