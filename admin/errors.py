"""Errors of the dashboard. Imports nothing internal but the root errors."""

from __future__ import annotations

from config.errors import VoicehookError


class AdminError(VoicehookError):
    """Raised when a dashboard request cannot be served as asked; the base of this package."""


class BadQuery(AdminError):
    """Raised when a dashboard request's parameters or form are malformed or out of bounds."""


class FormTooLarge(AdminError):
    """Raised when a submitted form is larger than any form of the dashboard."""
