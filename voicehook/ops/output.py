"""What `--json` prints: indented JSON, datetimes as ISO-8601."""

from __future__ import annotations

import orjson


def json_text(value: object) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode()


def print_json(value: object) -> None:
    """`value` as `--json` prints it, on stdout."""
    print(json_text(value))
