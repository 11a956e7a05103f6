"""Errors of the command line and dev mode: operator input that says nothing, files that are not
captures, a private redis-server that would not start.

Imports nothing internal but the root error, so every module of the package may import it.
"""

from __future__ import annotations

from config.errors import VoicehookError


class CommandError(VoicehookError):
    """Raised when a voicehook command cannot do what it was asked; the base of this package."""


class InvalidTimeSpec(CommandError):
    """Raised when a `--since`/`--older-than` value is neither a duration nor an ISO time."""


class InvalidSelection(CommandError):
    """Raised when selector flags contradict each other or name an unknown status."""


class CaptureError(CommandError):
    """Raised when a replay input cannot be read: missing, or a malformed capture document."""


class RedisServerError(CommandError):
    """Raised when there is no redis-server, or it exited or went unanswered while starting."""


class ChildProcessFailed(CommandError):
    """Raised when a child process exits before it is ready, or is not ready in time."""


class NoSessionToSignal(CommandError):
    """Raised when a child started without a session of its own is asked to signal its group."""
