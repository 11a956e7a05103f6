"""The module the Dramatiq CLI loads: bootstrap first, then the actors bind to that broker."""

from processors.bootstrap import bootstrap

bootstrap()

from processors import actors  # noqa: E402, F401 - must follow bootstrap (see module docstring)
