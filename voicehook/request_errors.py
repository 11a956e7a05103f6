"""A request model's validation error as one line naming the command-line options at fault."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from config.settings_errors import accepts


def describe_request_error(exc: ValidationError, options: Mapping[str, str]) -> str:
    """`--format='ogg' is not valid: expected one of mp3 or wav`, one clause per option."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        if not field:  # a rule across fields: its own words say what is wrong
            parts.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        name = options.get(field, field)
        parts.append(f"{name}={error.get('input')!r} is not valid: expected {accepts(error)}")
    return "; ".join(parts)
