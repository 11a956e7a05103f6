"""The module the Dramatiq CLI loads: bootstrap first, then the actors bind to that broker.

Dramatiq imports it in each worker process after installing its signal handlers, so this is
also where those handlers learn to drain once (see `processors.drain`).
"""

from processors.bootstrap import bootstrap
from processors.drain import drain_once

bootstrap()
drain_once()

from processors import actors  # noqa: E402, F401 - must follow bootstrap (see module docstring)
