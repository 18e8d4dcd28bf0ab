"""A scripted OpenAI-compatible server on 127.0.0.1 for the server backend's tests.

`LoopbackServer.routes` maps a path to its answer: a dict (JSON), a list of chunks (an SSE
stream ended by [DONE]), `Stall(body, seconds)` (sent, then silence), `Raw(body, content_type)` (sent as it is, then the connection
closes: a cut-off stream, a web page), `Refuse(status, payload)` (an HTTP error), or a
callable taking the request body and returning one of those (None: 404). Every request is
recorded in `requests` as (path, body)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Raw:
    body: bytes
    content_type: str = "text/event-stream"


@dataclass
class Stall:
    """`body` sent with Connection: close, then nothing for `seconds` (a stalled server)."""

    body: bytes
    seconds: float = 600.0


@dataclass
class Refuse:
    status: int
    payload: dict


class LoopbackServer(BaseHTTPRequestHandler):
    routes: dict = {}
    requests: list = []

    def log_message(self, *a):
        pass

    def _send(self, status: int, data: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, body):
        route = self.routes.get(self.path)
        self.requests.append((self.path, body))
        if callable(route):
            route = route(body)
        if route is None:
            self._send(404)
        elif isinstance(route, dict):
            self._send(200, json.dumps(route).encode())
        elif isinstance(route, Refuse):
            self._send(route.status, json.dumps(route.payload).encode())
        elif isinstance(route, Stall):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self.close_connection = True
            time.sleep(route.seconds)
        elif isinstance(route, Raw):
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(route.body)
            self.close_connection = True
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for c in route:
                    self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
            except OSError:  # the client closed the stream (at its budget, or Stop)
                pass

    def do_GET(self):
        self._answer(None)

    def do_POST(self):
        self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))


def serve():
    """Start a fresh server (routes and requests cleared); yields it, shuts it down after."""
    LoopbackServer.routes, LoopbackServer.requests = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), LoopbackServer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()


def delta(**d) -> dict:
    return {"choices": [{"index": 0, "delta": d, "finish_reason": None}]}


def end(reason: str = "stop") -> dict:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


def text(t: str, reason: str | None = None) -> dict:
    return {"choices": [{"index": 0, "text": t, "finish_reason": reason}]}


def posts(path: str) -> list[dict]:
    return [body for p, body in LoopbackServer.requests if p == path]
