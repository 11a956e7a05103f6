"""Errors in a service process's JSON log: pure."""

from __future__ import annotations

import json

from bench.verify import Check

ERROR_LEVELS = frozenset({"error", "critical", "exception"})


def error_lines(text: str) -> list[str]:
    """Lines logged at error level or above, and lines that are not JSON (raw tracebacks)."""
    found: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            found.append(line)
            continue
        if not isinstance(record, dict) or str(record.get("level", "")).lower() in ERROR_LEVELS:
            found.append(line)
    return found


def check_errors(name: str, text: str) -> Check:
    """Passed when the log holds no error; else the count and the first one, shortened."""
    errors = error_lines(text)
    detail = f"{len(errors)} errors or non-JSON lines"
    if errors:
        detail += "; first: " + errors[0][:400]
    return Check(name, not errors, detail)
