"""Reasoning budgets, the loop guard and Continue on OpenAI-compatible servers: a real
llama-cpp-python server on 127.0.0.1 (tokens forced with logit_bias, so the test does not
depend on what random weights write), and scripted loopback servers for llama-server's
native budget and for a server that knows nothing of either."""

from __future__ import annotations

import pytest

from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.backends.server_reply import NATIVE_SLACK
from gazal_desktop.core.budget import CLOSING_SENTENCE, FORCED_CLOSE
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, Finished, ReasoningClosed, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling
from loopback import LoopbackServer, delta, end, posts, serve, text

MSGS = [{"role": "system", "content": "Clinical tutor. Case: fever and flank pain."},
        {"role": "user", "content": "What is the diagnosis?"}]
# The tiny model's byte tokens 32..121 are printable ASCII: never </think>, never end of turn.
PRINTABLE = {"logit_bias": {str(i): 100.0 for i in range(32, 122)}}
RANDOM = dict(temperature=1.0, top_k=0, top_p=1.0)


def _texts(events, kind):
    return "".join(e.text for e in events if isinstance(e, kind))


# -- a real llama-cpp-python server --------------------------------------------------------

def test_real_server_budget_closes_reasoning_and_an_answer_follows(llama_server):
    b = OpenAIBackend(llama_server + "/v1", extra_body=PRINTABLE)
    b.check()
    t = b.traits()
    assert (t.dialect, t.chatml, t.raw_prompts) == ("llama-cpp-python", True, True)
    events = list(b.stream(MSGS, Sampling(max_tokens=10, reasoning_budget=40, seed=3, **RANDOM)))
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    assert len(closed) == 1 and (closed[0].tokens, closed[0].why) == (40, "budget")
    assert "cut at 40 tokens" in closed[0].message
    assert _texts(events, ReasoningDelta).rstrip().endswith(CLOSING_SENTENCE)
    assert len(_texts(events, AnswerDelta).strip()) > 0
    assert next(e for e in events if isinstance(e, Usage)).completion_tokens == 50  # 40 reasoning + 10 answer
    assert events[-1] == Finished("length")  # the answer used its own budget


def test_real_server_continue_goes_on_from_where_the_reply_stopped(llama_server):
    b = OpenAIBackend(llama_server + "/v1", n_ctx=1024, extra_body=PRINTABLE)
    chat = ChatSession(b, "A 30-year-old with fever and flank pain.", Sampling(max_tokens=12, seed=5, **RANDOM))
    list(chat.send("Diagnosis?"))
    reply = chat.messages[-1]
    first = reply.reasoning
    assert reply.status == "partial" and first and not reply.content  # stopped mid-reasoning
    ok, why = chat.can_continue()
    assert ok, why
    events = list(chat.continue_reply())
    assert events[-1].reason in ("length", "stop")
    assert chat.messages[-1] is reply and reply.reasoning.startswith(first) and len(reply.reasoning) > len(first)
    assert reply.usage.completion_tokens == 24  # the two parts add up


# -- scripted servers ----------------------------------------------------------------------

@pytest.fixture
def server():
    yield from serve()


LLAMA_SERVER_PROPS = {"default_generation_settings": {"n_ctx": 4096}, "build_info": "b0000"}


def _apply_template(body):
    return {"prompt": "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in body["messages"])
            + "<|im_start|>assistant\n<think>\n"}


def _special_count(body):
    return {"tokens": [0] if body["content"] in ("<|im_start|>", "<think>", "</think>") else [0, 0]}


def test_llama_server_gets_the_budget_in_the_request_and_closes_reasoning_itself(server):
    budget = 6
    LoopbackServer.routes = {
        "/props": LLAMA_SERVER_PROPS, "/tokenize": _special_count, "/apply-template": _apply_template,
        "/v1/completions": [text(f"Step {i}: thinking. ") for i in range(budget)]
        + [text(f"\n\n{CLOSING_SENTENCE}\n"), text("</think>\n\n"), text("## Primary Diagnosis\n"),
           text("Pyelonephritis.", "stop")],
    }
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="gazal")
    events = list(b.stream(MSGS, Sampling(max_tokens=100, reasoning_budget=budget)))
    sent = posts("/v1/completions")
    assert len(sent) == 1  # the server closed reasoning itself: no second request
    body = sent[0]
    assert body["reasoning_budget_tokens"] == budget and CLOSING_SENTENCE in body["reasoning_budget_message"]
    assert (body["reasoning_budget_start_tag"], body["reasoning_budget_end_tags"]) == ("<think>", ["</think>"])
    assert body["generation_prompt"] == "<|im_start|>assistant\n<think>\n"  # the open turn, replayed to its sampler
    assert body["prompt"].endswith(body["generation_prompt"]) and body["max_tokens"] >= budget + 100
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    assert len(closed) == 1 and closed[0].why == "budget" and closed[0].tokens == budget
    assert _texts(events, AnswerDelta) == "## Primary Diagnosis\nPyelonephritis."
    assert events[-1] == Finished("stop")


def test_a_llama_server_that_ignores_the_budget_is_closed_by_us_with_its_own_template(server):
    def complete(body):
        if body["prompt"].endswith(FORCED_CLOSE):
            return [text("Pyelo"), text("nephritis.", "stop")]
        return [text(f"step {i} ") for i in range(200)] + [text("", "length")]

    LoopbackServer.routes = {"/props": LLAMA_SERVER_PROPS, "/tokenize": _special_count, "/apply-template": _apply_template,
                      "/v1/completions": complete}
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="gazal")
    events = list(b.stream(MSGS, Sampling(max_tokens=50, reasoning_budget=10)))
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    # the server's tokenizer here counts 2 tokens for any text but the special ones: its closing
    # words are 2 tokens, and we wait for the budget, them and the slack
    assert len(closed) == 1 and closed[0].tokens == 10 + 2 + NATIVE_SLACK
    prompt = posts("/v1/completions")[1]["prompt"]
    assert prompt.startswith("<|im_start|>system\nClinical tutor.")
    last = 10 + 2 + NATIVE_SLACK - 1
    assert f"step {last} " in prompt and f"step {last + 1} " not in prompt and prompt.endswith(FORCED_CLOSE)
    assert _texts(events, AnswerDelta) == "Pyelonephritis."
    assert events[-1] == Finished("stop")


def test_llama_server_without_a_template_endpoint_gets_the_budget_on_the_chat_endpoint(server):
    budget = 6
    LoopbackServer.routes = {
        "/props": LLAMA_SERVER_PROPS,  # no /apply-template, no /tokenize: only the chat endpoint
        "/v1/chat/completions": [delta(reasoning_content=f"Step {i}. ") for i in range(budget)]
        + [delta(reasoning_content=f"\n\n{CLOSING_SENTENCE}\n"), delta(content="Pyelonephritis."), end()],
    }
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="gazal")
    events = list(b.stream(MSGS, Sampling(max_tokens=100, reasoning_budget=budget)))
    sent = posts("/v1/chat/completions")[0]
    assert sent["reasoning_budget_tokens"] == budget == sent["thinking_budget_tokens"]
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    assert len(closed) == 1 and closed[0].why == "budget"
    assert _texts(events, AnswerDelta) == "Pyelonephritis."


def test_a_plain_server_gets_a_second_request_with_reasoning_off_and_cannot_continue(server):
    def chat(body):
        if body.get("chat_template_kwargs") == {"enable_thinking": False}:
            return [delta(content="<think>\n\n</think>\n\n"), delta(content="Pyelonephritis."), end()]
        return [delta(content="<think>")] + [delta(content=f"thought {i}. ") for i in range(100)] + [end("length")]

    LoopbackServer.routes = {"/v1/chat/completions": chat}
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="m", n_ctx=4096)
    assert b.traits().dialect == "other" and not b.supports_continue
    events = list(b.stream(MSGS, Sampling(max_tokens=64, reasoning_budget=12)))
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    assert len(closed) == 1 and closed[0].tokens == 12 and "reasoning switched off" in closed[0].message
    second = posts("/v1/chat/completions")[1]
    assert second["max_tokens"] == 64 and second["messages"] == MSGS
    assert _texts(events, AnswerDelta) == "Pyelonephritis."  # the empty think block is not shown as the answer
    chat_session = ChatSession(b, "Case.", Sampling(max_tokens=8))
    chat_session.messages = []
    list(chat_session.send("Why?"))
    chat_session.messages[-1].status = "partial"
    ok, why = chat_session.can_continue()
    assert not ok and "cannot be continued" in why and "Regenerate" in why


def test_a_reasoning_loop_on_a_server_is_closed(server):
    LoopbackServer.routes = {
        "/v1/chat/completions": lambda body: (
            [delta(content="Fine."), end()] if body.get("chat_template_kwargs")
            else [delta(reasoning_content=w) for w in ["Check", " the", " urine", "."] * 40] + [end("length")]),
    }
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="m", n_ctx=4096)
    events = list(b.stream(MSGS, Sampling(max_tokens=64, reasoning_budget=1000)))
    closed = [e for e in events if isinstance(e, ReasoningClosed)]
    assert len(closed) == 1 and closed[0].why == "loop" and closed[0].tokens < 160
    assert _texts(events, AnswerDelta) == "Fine."


def test_continue_on_a_raw_prompt_server_sends_the_partial_reply_after_the_prompt(server):
    LoopbackServer.routes = {
        "/extras/tokenize/count": lambda body: {"count": 1 if body["input"] in ("<|im_start|>", "<think>", "</think>")
                                                else len(body["input"].split())},
        "/v1/completions": [text(" and nitrites"), text(".", "stop")],
    }
    b = OpenAIBackend(f"http://127.0.0.1:{server.server_port}/v1", model="m", n_ctx=4096)
    assert b.supports_continue
    events = list(b.stream(MSGS, Sampling(max_tokens=30), continue_from=("Step 1: fever.", "Pyuria")))
    prompt = posts("/v1/completions")[0]["prompt"]
    assert prompt.endswith("<|im_start|>assistant\n<think>\nStep 1: fever.\n</think>\n\nPyuria")
    assert _texts(events, AnswerDelta) == " and nitrites." and events[-1] == Finished("stop")
