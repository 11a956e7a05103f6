"""A database failure as one line saying what to do: which URL could not be reached and why,
or that the schema is missing (`voicehook db upgrade`). Imports no driver: it reads the
exception's class names and text, so the CLI can call it without loading SQLAlchemy first.
"""

from __future__ import annotations

import re

UPGRADE_HINT = "run `voicehook db upgrade`"
_PASSWORD = re.compile(r"://([^:/@]*):[^@/]*@")
_MISSING_TABLE = re.compile(r"no such table: \w+|relation \"[^\"]+\" does not exist")


def redact_password(url: str) -> str:
    """`url` with its password replaced by ***, for messages."""
    return _PASSWORD.sub(r"://\1:***@", url)


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    return found


def _from_sqlalchemy(exc: BaseException) -> bool:
    return any(type(e).__module__.startswith("sqlalchemy") for e in _causes(exc))


def describe_database_error(exc: BaseException, database_url: str) -> str | None:
    """One line for a database error met while running a command; None if it is not one."""
    if not _from_sqlalchemy(exc):
        return None
    text = " ".join(str(e) for e in _causes(exc))
    where = redact_password(database_url)
    missing = _MISSING_TABLE.search(text)
    if missing or any(type(e).__name__ == "UndefinedTable" for e in _causes(exc)):
        what = missing.group(0) if missing else "a table is missing"
        return f"the database at DATABASE_URL={where} is not migrated ({what}): {UPGRADE_HINT}"
    if type(exc).__name__ == "OperationalError":
        return f"cannot use the database at DATABASE_URL={where}: {_reason(text)}"
    return None


def _reason(text: str) -> str:
    """The line of a driver's message that says why (psycopg's FATAL line, else the first)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "FATAL:" in line:
            return line.split("FATAL:", 1)[1].strip()
    first = lines[0] if lines else "unknown error"
    first = re.sub(r"^\([\w.]+\)\s*", "", first)
    return first[:200]
