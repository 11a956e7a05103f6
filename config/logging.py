"""structlog for every process: JSON lines in production, readable console output in dev.

Configured once per process with `configure_logging(settings)`. Standard-library loggers
(uvicorn, dramatiq, alembic) are formatted by the same processors, so every line has the
same shape and passes through the same redaction.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from config.settings import Settings

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {"authorization", "api_key", "apikey", "secret", "secrets", "token", "password", "cookie"}
)


# Query parameters of signed URLs (the sandbox's, S3's, most CDNs') that grant access.
_SIGNED_QUERY = re.compile(
    r"(?i)\b(signature|sig|token|expires|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token|key|api_key)=[^&\s\"'<>]+"
)


class SecretRedactor:
    """Masks values of sensitive keys and any occurrence of a configured secret in a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        return {key: self._clean(key, value) for key, value in event_dict.items()}

    def _clean(self, key: str, value: Any) -> Any:
        if key.lower() in SENSITIVE_KEYS:
            return REDACTED
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, MutableMapping):
            return {k: self._clean(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean("", v) for v in value]
        return value

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "=" in text:
            text = _SIGNED_QUERY.sub(rf"\1={REDACTED}", text)
        return text


def _orjson_dumps(event_dict: EventDict, **_: Any) -> str:
    return orjson.dumps(event_dict, default=str).decode()


def build_processors(settings: Settings) -> list[Processor]:
    """The processor chain shared by structlog and standard-library records."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        SecretRedactor(settings.secret_strings()),
    ]


def configure_logging(settings: Settings, *, stream: Any = None) -> None:
    """Configure structlog and the standard library for this process."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    shared = build_processors(settings)
    renderer: Processor
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)

    output = stream or sys.stderr
    # structlog's own lines skip the standard library's machinery: they are on the hot path.
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=output),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request's full URL at INFO, and a signed download URL's query string is
    # a credential for the audio; httpcore's DEBUG lines carry headers. Whatever the level.
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "dramatiq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
