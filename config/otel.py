"""The OpenTelemetry side of `config.tracing`: imported only when traces are turned on.

Spans go to the OTLP/HTTP endpoint through a batch processor, so a request never waits on an
export; the provider exports what is left when the process exits (its atexit hook). The
exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, …) itself;
the resource takes `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` over our default
service name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass
class Tracing:
    provider: TracerProvider
    tracer: trace.Tracer

    @classmethod
    def start(cls, endpoint: str, service_name: str) -> Tracing:
        resource = Resource.create({SERVICE_NAME: service_name})
        provider = TracerProvider(resource=resource)
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider, provider.get_tracer("voicehook"))

    def span(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[trace.Span]:
        return self.tracer.start_as_current_span(name, attributes=dict(attributes))

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        trace.get_current_span().set_attributes(dict(attributes))

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    @contextmanager
    def continued(self, carrier: Mapping[str, str]) -> Iterator[None]:
        token = context.attach(_PROPAGATOR.extract(dict(carrier)))
        try:
            yield
        finally:
            context.detach(token)
