"""The Dramatiq middleware that carries traces across the queue (installed only when on).

Enqueueing puts the current context in the message's options (`TRACE_OPTION`), unless the
message already carries one (the receiver's writer writes the webhook request's); processing
continues that context and runs the actor inside a span named after it, with the id the
message carries as an attribute, so every span the handler starts joins the webhook's trace.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from config.queues import (
    CLONE_VOICE_ACTOR,
    DELIVER_NOTIFICATION_ACTOR,
    PROCESS_EVENT_ACTOR,
    SUBMIT_JOB_ACTOR,
)
from config.tracing import TRACE_OPTION, annotate, continued, current_traceparent, span

# What the one argument of each actor is, as a span attribute.
ID_ATTRIBUTES = {
    PROCESS_EVENT_ACTOR: "voicehook.event_id",
    SUBMIT_JOB_ACTOR: "voicehook.job_id",
    CLONE_VOICE_ACTOR: "voicehook.voice_id",
    DELIVER_NOTIFICATION_ACTOR: "voicehook.delivery_id",
}


class TraceMiddleware(Middleware):
    """Injects the trace context on enqueue; continues it around each message's processing."""

    def __init__(self) -> None:
        # A worker thread processes one message at a time, from `before` to `after`.
        self._local = threading.local()

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int
    ) -> None:
        if TRACE_OPTION not in message.options and (traceparent := current_traceparent()):
            message.options[TRACE_OPTION] = {"traceparent": traceparent}

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        scope = ExitStack()
        carrier = message.options.get(TRACE_OPTION)
        scope.enter_context(continued(carrier if isinstance(carrier, dict) else None))
        attributes: dict[str, str | int] = {
            "messaging.system": "dramatiq",
            "messaging.destination.name": message.queue_name,
            "messaging.message.id": message.message_id,
            "messaging.dramatiq.retries": int(message.options.get("retries", 0)),
        }
        if message.args and (name := ID_ATTRIBUTES.get(message.actor_name)):
            attributes[name] = str(message.args[0])
        scope.enter_context(span(message.actor_name, **attributes))
        self._local.scope = scope

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        scope: ExitStack | None = getattr(self._local, "scope", None)
        if scope is None:
            return
        self._local.scope = None
        if exception is not None:
            annotate(error=True, **{"exception.type": type(exception).__name__})
            scope.__exit__(type(exception), exception, exception.__traceback__)
        else:
            scope.close()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)
