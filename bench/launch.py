"""Serve one app factory with the bench's fixed server settings.

`python -m bench.launch FACTORY --port N [--workers N]`. The bare endpoint and the
receiver are both started through here, so their server settings cannot drift apart.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

HOST = "127.0.0.1"

# The same as `voicehook web` where it matters (no access log, logging left to the app,
# proxy headers), with the event loop and HTTP parser pinned instead of "auto".
SERVER_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_config": None,
    "log_level": "warning",
    "proxy_headers": True,
    "forwarded_allow_ips": HOST,
    "timeout_graceful_shutdown": 20,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("factory", help="import path of an app factory, module:function")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        args.factory,
        factory=True,
        host=HOST,
        port=args.port,
        workers=args.workers,
        **SERVER_OPTIONS,
    )


if __name__ == "__main__":
    main()
