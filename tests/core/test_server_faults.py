"""What a misbehaving server does to a reply: a loopback server that drops the line, sends
chunks that are not chunks, or answers with a web page. Nothing raises out of the stream and
what arrived is kept."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, Finished
from gazal_desktop.core.sampling import Sampling

MSGS = [{"role": "user", "content": "Diagnosis?"}]


class _Raw(BaseHTTPRequestHandler):
    """Sends `body` as it is (a stream, a page) and closes the connection."""

    body = b""
    content_type = "text/event-stream"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != "/v1/chat/completions":
            return self.do_GET()
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.body)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def raw_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Raw)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()


def _sse(*chunks) -> bytes:
    return b"".join(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n" for c in chunks)


def _content(text):
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def test_a_reply_cut_off_without_done_is_interrupted_and_kept(raw_server):
    _Raw.body, _Raw.content_type = _sse(_content("Pyelo"), _content("nephritis, because")), "text/event-stream"
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "Pyelonephritis, because"
    assert events[-1].reason == "interrupted" and "closed the connection" in events[-1].error

    chat = ChatSession(b, "A case.", Sampling())
    list(chat.send("Diagnosis?"))
    reply = chat.messages[-1]
    assert reply.status == "interrupted" and reply.content == "Pyelonephritis, because"
    assert chat.can_continue()[0] is False  # this server takes no raw prompt: Regenerate instead


def test_chunks_that_are_not_chunks_are_skipped_and_the_text_kept(raw_server):
    _Raw.body = _sse(
        _content("Step "), b"null", b"[1, 2]", b'"a string"',
        {"choices": "not a list"}, {"choices": [{"delta": "a string delta"}]},
        {"choices": [{"delta": {"content": 42}}]}, {"choices": [None, {"delta": {"content": "one."}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": "not a dict"},
    ) + b"data: [DONE]\n\n"
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "Step one."
    assert events[-1] == Finished("stop")


def test_a_web_page_instead_of_a_stream_is_said_as_such(raw_server):
    _Raw.body, _Raw.content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html"
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert events[-1].reason == "error"
    assert "something other than a stream" in events[-1].error and "502 Bad Gateway" in events[-1].error


class _Stalled(BaseHTTPRequestHandler):
    """A tokenizer that never answers, and a chat endpoint that does."""

    tokenize_calls = 0

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if "tokenize" in self.path:
            type(self).tokenize_calls += 1
            threading.Event().wait(30)  # stalled
            return
        if self.path != "/v1/chat/completions":
            return self.do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(_sse(_content("Fine."), {"choices": [{"delta": {}, "finish_reason": "stop"}]}) + b"data: [DONE]\n\n")


def test_a_stalled_tokenizer_is_asked_once_then_estimated(monkeypatch):
    from gazal_desktop.core.backends import openai_compat

    monkeypatch.setattr(openai_compat, "TOKENIZE_TIMEOUT", 0.5)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Stalled)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        b = OpenAIBackend(f"http://127.0.0.1:{httpd.server_port}/v1", model="m", n_ctx=4096)
        chat = ChatSession(b, "A case.", Sampling(max_tokens=16))
        events = list(chat.send("Diagnosis?"))  # counts the context several times before streaming
        assert events[-1] == Finished("stop") and chat.messages[-1].content == "Fine."
        assert _Stalled.tokenize_calls == 1 and b._tokenizer == "estimate"
    finally:
        httpd.shutdown()
