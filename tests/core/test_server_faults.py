"""What a misbehaving server does to a reply: a loopback server that drops the line, sends
chunks that are not chunks, or answers with a web page. Nothing raises out of the stream and
what arrived is kept."""

from __future__ import annotations

import json
import threading

import pytest

from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, Finished
from gazal_desktop.core.sampling import Sampling
from loopback import LoopbackServer, Raw, serve

MSGS = [{"role": "user", "content": "Diagnosis?"}]


@pytest.fixture
def raw_server():
    for httpd in serve():
        yield f"http://127.0.0.1:{httpd.server_port}/v1"


def _route(body: bytes, content_type: str = "text/event-stream") -> None:
    LoopbackServer.routes["/v1/chat/completions"] = Raw(body, content_type)


def _sse(*chunks) -> bytes:
    return b"".join(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n" for c in chunks)


def _content(text):
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def test_a_reply_cut_off_without_done_is_interrupted_and_kept(raw_server):
    _route(_sse(_content("Pyelo"), _content("nephritis, because")))
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
    _route(_sse(
        _content("Step "), b"null", b"[1, 2]", b'"a string"',
        {"choices": "not a list"}, {"choices": [{"delta": "a string delta"}]},
        {"choices": [{"delta": {"content": 42}}]}, {"choices": [None, {"delta": {"content": "one."}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": "not a dict"},
    ) + b"data: [DONE]\n\n")
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "Step one."
    assert events[-1] == Finished("stop")


def test_a_web_page_instead_of_a_stream_is_said_as_such(raw_server):
    _route(b"<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html")
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert events[-1].reason == "error"
    assert "something other than a stream" in events[-1].error and "502 Bad Gateway" in events[-1].error


def test_a_stalled_tokenizer_is_asked_once_then_estimated(raw_server, monkeypatch):
    from gazal_desktop.core.backends import openai_compat

    monkeypatch.setattr(openai_compat, "TOKENIZE_TIMEOUT", 0.5)
    stalled = []

    def stall(body):  # a tokenizer that never answers
        stalled.append(body)
        threading.Event().wait(30)

    LoopbackServer.routes.update({
        "/extras/tokenize/count": stall, "/tokenize": stall,
        "/v1/chat/completions": Raw(_sse(_content("Fine."), {"choices": [{"delta": {}, "finish_reason": "stop"}]})
                                    + b"data: [DONE]\n\n"),
    })
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    chat = ChatSession(b, "A case.", Sampling(max_tokens=16))
    events = list(chat.send("Diagnosis?"))  # counts the context several times before streaming
    assert events[-1] == Finished("stop") and chat.messages[-1].content == "Fine."
    assert len(stalled) == 1 and b._tokenizer == "estimate"


def test_stop_on_a_stalled_server_ends_the_reply_at_once_and_keeps_the_text(raw_server):
    """A server that sent a little, then nothing (Connection: close, 600 s of silence): Stop
    closes the socket from the Stop path; the reply does not wait for a next token."""
    import time

    from gazal_desktop.core.cancel import CancelToken
    from loopback import Stall

    LoopbackServer.routes["/v1/chat/completions"] = Stall(_sse(_content("Suspect aortic")), seconds=600)
    b = OpenAIBackend(raw_server, model="m", n_ctx=4096)
    chat = ChatSession(b, "A case.", Sampling())
    cancel = CancelToken()
    threading.Timer(0.5, cancel.cancel).start()
    t = time.monotonic()
    list(chat.send("Diagnosis?", cancel=cancel))
    assert time.monotonic() - t < 5
    reply = chat.messages[-1]
    assert reply.content == "Suspect aortic" and reply.status in ("cancelled", "partial")
