"""A TCP proxy on a loopback port that passes requests to an upstream server slowly, so a
test can act (SIGKILL a worker) while an upload is under way.

Bytes towards the upstream go at about `bytes_per_second`; answers come back at full speed.
`uploading` is set once a connection has started sending a PUT request.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK = 4096


class ThrottledProxy:
    def __init__(self, upstream_port: int, bytes_per_second: int) -> None:
        self._upstream_port = upstream_port
        self._pause = CHUNK / bytes_per_second
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.uploading = threading.Event()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, throttled: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(CHUNK):
                if throttled and b"PUT /" in chunk:
                    self.uploading.set()
                sink.sendall(chunk)
                if throttled:
                    time.sleep(self._pause)  # the throttle itself, not a wait on a condition
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()


@contextmanager
def throttled_proxy(upstream_port: int, bytes_per_second: int) -> Iterator[ThrottledProxy]:
    proxy = ThrottledProxy(upstream_port, bytes_per_second)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.stop()
        thread.join(5)
