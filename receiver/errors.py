"""Errors of the receiver: bodies refused while read, writer processes gone, unknown messages.

Imports nothing internal but the root error, so every module of the receiver may import it.
"""

from __future__ import annotations

from config.errors import VoicehookError


class ReceiverError(VoicehookError):
    """Raised when the receiver refuses a request or loses a writer; the base of this package."""


class BodyTooLarge(ReceiverError):
    """Raised when a body is (or declares itself) larger than the configured cap."""


class ClientGone(ReceiverError):
    """Raised when the client disconnected before its body was read."""


class HeadersRefused(ReceiverError):
    """Raised when a request's headers outgrew the cap: stops the HTTP parser after its 431."""


class WriterGone(ReceiverError):
    """Raised when the other end of the writer socket closed (the process exited)."""


class UnexpectedMessage(ReceiverError):
    """Raised when the writer socket carries something other than the protocol's next message."""


class InvalidListParameter(ReceiverError):
    """Raised when a list's query parameter (cursor, limit, since, status) is not valid."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
