"""A settings validation error as one line a person can act on: the environment variable,
what it was given and what it accepts. Pure: it reads pydantic's error list, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

# Values of these variables are never repeated back: an error message may end up in a log.
SECRET_VARIABLES = frozenset({"VPAI_API_KEY", "VPAI_WEBHOOK_SECRETS", "ADMIN_TOKEN"})
# Values this long are cut: an error is one line.
MAX_SHOWN = 60
_PASSWORD = re.compile(r"://([^:/@]*):[^@/]*@")


_BOUNDS = {
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number below {lt}",
    "less_than_equal": "a number of at most {le}",
}
_KINDS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
}


def accepts(error: Mapping[str, Any]) -> str:
    """What a variable accepts, in words, from one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**ctx)
    if kind in _KINDS:
        return _KINDS[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"]).removeprefix("Input should be ")


def variable_name(location: Iterable[object]) -> str:
    """The environment variable a field comes from (Settings has no prefix)."""
    first = next(iter(location), "")
    return str(first).upper()


def shown_value(variable: str, value: object) -> str:
    if variable in SECRET_VARIABLES:
        return "(hidden)"
    text = _PASSWORD.sub(r"://\1:***@", value) if isinstance(value, str) else repr(value)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 1] + "…"
    return repr(text) if isinstance(value, str) else text


def invalid_variables(exc: ValidationError) -> frozenset[str]:
    """The environment variables a settings error is about."""
    return frozenset(variable_name(error["loc"]) for error in exc.errors())


def describe_settings_error(exc: ValidationError) -> str:
    """One line: `NAME='given' is not valid: expected …` for each variable in error."""
    parts: list[str] = []
    seen: set[str] = set()
    for error in exc.errors():
        variable = variable_name(error["loc"])
        if variable in seen:
            continue
        seen.add(variable)
        parts.append(
            f"{variable}={shown_value(variable, error.get('input'))} is not valid: "
            f"expected {accepts(error)}"
        )
    return "; ".join(parts) + " (see the README's Configuration table)"
