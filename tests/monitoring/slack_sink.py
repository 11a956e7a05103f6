"""A Slack-compatible incoming webhook for the alert tests: a real HTTP server on a thread
that records every JSON body and answers the status the test sets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"


class SlackSink:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.url = ""

    @property
    def texts(self) -> list[str]:
        return [str(body["text"]) for body in self.bodies]


@contextmanager
def slack_sink() -> Iterator[SlackSink]:
    sink = SlackSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(min(length, 65536))
            if self.path == SECRET_PATH and sink.status == 200:
                sink.bodies.append(orjson.loads(body))
            self.send_response(sink.status if self.path == SECRET_PATH else 404)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
