"""The OpenAI-compatible backend against a real llama-cpp-python server on 127.0.0.1,
and a scripted SSE server for the separate-reasoning-field dialect (vLLM, llama-server)."""

from __future__ import annotations

import time

import pytest

from gazal_desktop.core.backends import BackendError
from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, Finished, PromptStarted, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling
from loopback import LoopbackServer, Refuse, delta, serve

MSGS = [{"role": "system", "content": "Clinical tutor. Case: fever and flank pain."},
        {"role": "user", "content": "What is the diagnosis?"}]


def test_streams_from_a_real_llama_cpp_server(llama_server):
    b = OpenAIBackend(llama_server + "/v1")
    assert "tiny-gazal" in b.check() and b.model == "tiny-gazal"
    events = list(b.stream(MSGS, Sampling(max_tokens=12, seed=4)))
    assert isinstance(events[0], PromptStarted)
    assert isinstance(events[-1], Finished) and events[-1].reason in ("length", "stop")
    text = "".join(e.text for e in events if isinstance(e, (ReasoningDelta, AnswerDelta)))
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.completion_tokens >= 1 and usage.prompt_tokens > 0
    assert usage.ttft_s is not None
    assert text or usage.completion_tokens  # random weights may sample end-of-turn early


def test_token_counts_come_from_the_server_tokenizer(llama_server, tiny_gguf):
    from gazal_convert.llamalog import load_llama

    b = OpenAIBackend(llama_server)  # without /v1: added
    text = "Potassium 6.2 mmol/L with peaked T waves."
    vocab = load_llama(str(tiny_gguf), vocab_only=True)
    try:
        expected = len(vocab.tokenize(text.encode(), add_bos=False))
    finally:
        vocab.close()
    assert b.count_text(text) == expected
    assert b._tokenizer == "llama-cpp-python"


def test_a_chat_session_runs_on_the_server(llama_server):
    b = OpenAIBackend(llama_server + "/v1", n_ctx=1024)
    chat = ChatSession(b, "A 30-year-old with fever.", Sampling(max_tokens=6, seed=1))
    events = list(chat.send("Diagnosis?"))
    assert events[-1].reason in ("length", "stop")
    assert chat.messages[-1].status in ("partial", "complete")


def test_stop_closes_the_stream_at_once(llama_server):
    b = OpenAIBackend(llama_server + "/v1")
    cancel = CancelToken()
    events = []
    t_cancel = None
    for ev in b.stream(MSGS, Sampling(max_tokens=800, temperature=1.5, top_k=0, top_p=1.0, seed=9), cancel):
        events.append(ev)
        if isinstance(ev, (ReasoningDelta, AnswerDelta)) and t_cancel is None:
            t_cancel = time.perf_counter()
            cancel.cancel()
    assert events[-1] == Finished("cancelled")
    # The server is still usable afterwards.
    assert list(b.stream(MSGS, Sampling(max_tokens=2)))[-1].reason in ("length", "stop")


def test_unreachable_server_is_a_clear_error():
    b = OpenAIBackend("http://127.0.0.1:9/v1")
    with pytest.raises(BackendError, match="Cannot reach the server"):
        b.check()
    events = list(b.stream(MSGS, Sampling(max_tokens=2)))
    assert events[-1].reason == "error" and "connection" in events[-1].error.lower()


def test_bad_address_is_refused():
    with pytest.raises(BackendError, match="should look like"):
        OpenAIBackend("localhost:8000")


@pytest.fixture
def scripted():
    yield from serve()


def test_separate_reasoning_field_and_think_tags_in_content(scripted):
    LoopbackServer.routes["/v1/chat/completions"] = [
        delta(role="assistant"),
        delta(reasoning_content="Step 1: fever, flank pain.\n"),
        delta(reasoning="Step 2: nitrites.\n"),
        delta(content="## Primary Diagnosis\nPyelonephritis."),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 40, "completion_tokens": 17}},
    ]
    b = OpenAIBackend(f"http://127.0.0.1:{scripted.server_port}/v1", model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    assert reasoning == "Step 1: fever, flank pain.\nStep 2: nitrites.\n"
    assert answer == "## Primary Diagnosis\nPyelonephritis."
    usage = next(e for e in events if isinstance(e, Usage))
    assert (usage.prompt_tokens, usage.completion_tokens) == (40, 17) and usage.reasoning_s is not None
    assert events[-1] == Finished("stop")

    LoopbackServer.routes["/v1/chat/completions"] = [delta(content="<thi"), delta(content="nk>Step 1: x</th"), delta(content="ink>Answer"),
                        {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}]
    events = list(b.stream(MSGS, Sampling()))
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Step 1: x"
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "Answer"
    assert events[-1] == Finished("length")


def test_server_error_message_reaches_the_user(scripted):
    LoopbackServer.routes["/v1/chat/completions"] = Refuse(404, {"error": {"message": "model 'x' not found"}})
    b = OpenAIBackend(f"http://127.0.0.1:{scripted.server_port}/v1", model="x", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling()))
    assert events[-1].reason == "error" and "model 'x' not found" in events[-1].error
