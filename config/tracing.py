"""Traces, when asked for: the one place the rest of the code starts spans and carries context.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set: then `configure_tracing` imports
OpenTelemetry (the `otel` extra, `config.otel`) and every `span` is real. Off, nothing of
OpenTelemetry is imported and `span` hands back one shared do-nothing context manager, so the
hot paths pay a function call and no more.

A trace begins at the webhook request (`receiver.webhook`); its context travels as a W3C
`traceparent` string, through the receiver's writer process into the Dramatiq message's
options (`TRACE_OPTION`), where the worker's middleware (`config.trace_middleware`) picks it
up, so the worker's spans — claim, download, verify, store, upstream calls — join it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from config.errors import ConfigurationError
from config.settings import Settings

if TYPE_CHECKING:
    from config.otel import Tracing

TRACE_OPTION = "trace_context"  # the message option holding {"traceparent": …}
Attribute = str | int | float | bool

_tracing: Tracing | None = None
_OFF: AbstractContextManager[None] = nullcontext()


def configure_tracing(settings: Settings, service_name: str) -> bool:
    """Turn traces on for this process if the settings ask for them; whether they are on."""
    global _tracing  # noqa: PLW0603 - one tracer provider per process, set at start-up
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint or _tracing is not None:
        return _tracing is not None
    try:
        from config.otel import Tracing  # noqa: PLC0415 - imported only when traces are on
    except ImportError as exc:
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed:"
            " install voicehook with its `otel` extra (pip install 'voicehook[otel]')."
        ) from exc
    _tracing = Tracing.start(endpoint, service_name)
    return True


def tracing_enabled() -> bool:
    return _tracing is not None


def span(name: str, **attributes: Attribute) -> AbstractContextManager[Any]:
    """A span named `name` under the current one (nothing when traces are off)."""
    if _tracing is None:
        return _OFF
    return _tracing.span(name, attributes)


def annotate(**attributes: Attribute) -> None:
    """Add attributes to the current span (nothing when traces are off)."""
    if _tracing is not None:
        _tracing.annotate(attributes)


def current_traceparent() -> str | None:
    """The current span's context as a W3C `traceparent`, to carry to another process."""
    if _tracing is None:
        return None
    return _tracing.traceparent()


def trace_options(traceparent: str | None) -> dict[str, Any]:
    """The message options that carry `traceparent` (none when there is nothing to carry)."""
    return {TRACE_OPTION: {"traceparent": traceparent}} if traceparent else {}


@contextmanager
def continued(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make `carrier`'s context (from a message) the current one for the block."""
    if _tracing is None or not carrier:
        yield
        return
    with _tracing.continued(carrier):
        yield
