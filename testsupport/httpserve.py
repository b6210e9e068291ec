"""Test helper: an HTTP server on 127.0.0.1 that hands every GET to a
state object's ``handle(request)`` (the fetch, web page and DSpace tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve(state, host: str = "127.0.0.1") -> Iterator[object]:
    """Serve ``state`` until the block ends; sets ``state.url``. A client
    that hangs up mid-answer is ignored. If the state has a ``stop`` event
    (a trickling answer waits on it), it is set before shutting down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            try:
                state.handle(self)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)  # loopback only (127.0.0.0/8)
    httpd.daemon_threads = True
    state.url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop = getattr(state, "stop", None)
        if stop is not None:
            stop.set()
        httpd.shutdown()
        httpd.server_close()
