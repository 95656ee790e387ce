"""A webhook receiver on loopback (http.server in a thread) and an independent check of the
Standard Webhooks signature, written from the spec rather than from the app's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got, and how it answers: `replies` are taken in turn, (status, seconds to
    wait first); when they run out it answers 200 at once."""

    port: int = 0
    scheme: str = "http"
    received: list[Received] = field(default_factory=list)
    replies: list[tuple[int, float]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/vendorrisk"

    def wait_for(self, count: int, seconds: float = 5.0) -> list[Received]:
        """The requests once `count` have come (or what came within `seconds`)."""
        end = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < end:
            time.sleep(0.02)
        return self.received


@contextmanager
def receiver(tls: Any = None) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 (HTTPS with `tls`, a tests.e2e.harness.Certificate),
    stopped afterwards."""
    state = Receiver(scheme="https" if tls else "http")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(self.path, headers, body))
            status, delay = state.replies.pop(0) if state.replies else (200, 0.0)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls.cert), str(tls.key))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.block_on_close = False
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> None:
    """Check a message as a receiver does (standardwebhooks.com): the timestamp is recent, and
    one of the v1 signatures is the HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the
    base64-decoded secret after "whsec_"."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) <= tolerance, "timestamp too old or too new"
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{message_id}.{timestamp}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [
        sig.split(",", 1)[1]
        for sig in headers["webhook-signature"].split(" ")
        if sig.startswith("v1,")
    ]
    assert any(hmac.compare_digest(sig, expected) for sig in given), "bad signature"
