"""Chat sessions: framing, the context budget, overflow that keeps the vignette, statuses."""

from __future__ import annotations

import pytest

from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.chat import ChatMessage, ChatSession
from gazal_desktop.core.events import AnswerDelta, ContextNotice, PromptStarted, ReasoningDelta
from gazal_desktop.core.sampling import Sampling
from testenv import THREADS

VIGNETTE = "A 24-year-old woman has fever, dysuria and right flank pain. Urinalysis shows nitrites."


@pytest.fixture(scope="module")
def small_ctx(tiny_gguf):
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    yield b
    b.close()


def test_prompt_frames_education_on_the_vignette(small_ctx):
    chat = ChatSession(small_ctx, VIGNETTE, Sampling(max_tokens=8, seed=1))
    msgs, dropped = chat.build()
    assert dropped == 0 and msgs[0]["role"] == "system"
    assert "education" in msgs[0]["content"] and VIGNETTE in msgs[0]["content"]
    assert "Step 1" in msgs[0]["content"] and "Primary Diagnosis" in msgs[0]["content"]


def test_a_turn_records_reasoning_answer_stats_and_status(small_ctx):
    saved = []
    chat = ChatSession(small_ctx, VIGNETTE, Sampling(max_tokens=10, seed=1), on_update=lambda m: saved.append(m.status))
    events = list(chat.send("What is the diagnosis?"))
    reply = chat.messages[-1]
    assert reply.role == "assistant" and reply.status in ("partial", "complete")
    shown = "".join(e.text for e in events if isinstance(e, (ReasoningDelta, AnswerDelta)))
    assert reply.reasoning + reply.content == shown
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    assert saved and saved[-1] == reply.status  # saved as it finished


def test_earlier_reasoning_is_left_out_unless_kept(small_ctx):
    chat = ChatSession(small_ctx, VIGNETTE)
    chat.messages = [ChatMessage("user", "Diagnosis?"),
                     ChatMessage("assistant", "Pyelonephritis.", reasoning="Step 1: fever and flank pain.")]
    msgs, _ = chat.build()
    assert msgs[-1] == {"role": "assistant", "content": "Pyelonephritis."}
    chat.keep_reasoning = True
    msgs, _ = chat.build()
    assert "Step 1: fever and flank pain." in msgs[-1]["content"] and "<think>" in msgs[-1]["content"]


def test_context_status_counts_with_the_model_tokenizer(tiny_gguf):
    backend = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=2048, n_threads=THREADS))
    try:
        chat = ChatSession(backend, VIGNETTE, Sampling(max_tokens=64))
        status = chat.context_status()
        assert status.used == backend.count_tokens(chat.build()[0])
        assert status.limit == 2048 and status.describe() == f"used {status.used:,} of 2,048 tokens"
        assert status.level == "ok"
        per_unit = backend.count_text("renal colic " * 100) / 100
        room = 2048 - status.used
        near = "renal colic " * int((room - 64 - 0.1 * 2048) / per_unit)  # ~90% used with the reply
        assert chat.context_status(near).level == "warn"  # warned before it is full
        assert chat.context_status("renal colic " * int(room / per_unit)).level == "full"
    finally:
        backend.close()


def test_overflow_leaves_out_oldest_turns_but_never_the_vignette(small_ctx):
    chat = ChatSession(small_ctx, VIGNETTE, Sampling(max_tokens=48, seed=1))
    for i in range(8):
        chat.messages += [ChatMessage("user", f"Question {i}: what about the antibiotic choice? " * 2),
                          ChatMessage("assistant", f"Answer {i}: ceftriaxone, then narrow. " * 3)]
    events = list(chat.send("And the follow-up?"))
    notice = next(e for e in events if isinstance(e, ContextNotice))
    assert notice.dropped_turns >= 1 and "vignette is always kept" in notice.message
    # The prompt that was sent: everything up to the learner's message. (Whether the random
    # model's reply has answer text, and so joins the history, depends on the machine.)
    question = chat.messages[-2]
    assert question.role == "user" and question.content == "And the follow-up?"
    history = chat._history()
    msgs, dropped = chat.build(history[:history.index(question) + 1])
    assert dropped == notice.dropped_turns
    assert VIGNETTE in msgs[0]["content"] and msgs[-1]["content"] == "And the follow-up?"
    assert small_ctx.count_tokens(msgs) + 48 <= small_ctx.n_ctx
    assert "Question 0" not in str(msgs)
    assert events[-1].reason in ("length", "stop")


def test_a_vignette_too_big_for_the_context_is_a_clear_error(small_ctx):
    chat = ChatSession(small_ctx, VIGNETTE + " Past history: " + "hypertension, " * 300)
    events = list(chat.send("Diagnosis?"))
    assert events[-1].reason == "error" and "Raise the context length" in events[-1].error
    assert chat.messages[-1].status == "error"


def test_cancel_marks_the_reply_cancelled_and_keeps_it(small_ctx):
    # Stop as soon as the first text arrives. (A random model may end a reply on its first
    # token; the next seed then stands in, so the test holds whatever the machine computes.)
    for seed in range(5, 25):
        chat = ChatSession(small_ctx, VIGNETTE, Sampling(max_tokens=200, seed=seed))
        cancel = CancelToken()
        for ev in chat.send("Explain.", cancel):
            if isinstance(ev, (ReasoningDelta, AnswerDelta)):
                cancel.cancel()
        if cancel.cancelled:
            break
    reply = chat.messages[-1]
    assert reply.status == "cancelled" and (reply.reasoning or reply.content)
    # A stopped reply with answer text stays in the history (it is what the learner saw);
    # one stopped while still reasoning has nothing to carry forward.
    chat.messages[-1] = ChatMessage("assistant", "Pyelonephr", reasoning="Step 1", status="cancelled")
    assert chat.build()[0][-1] == {"role": "assistant", "content": "Pyelonephr"}
    chat.messages[-1] = ChatMessage("assistant", "", reasoning="Step 1", status="cancelled")
    assert chat.build()[0][-1] == {"role": "user", "content": "Explain."}


def test_follow_up_reads_only_the_new_message(tiny_gguf):
    """After each reply the exchange is read into the cache, so turn N reads only its message."""
    from gazal_desktop.core.events import PromptStarted

    backend = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=2048, n_threads=THREADS))
    try:
        chat = ChatSession(backend, VIGNETTE, Sampling(max_tokens=6, seed=2))
        new_tokens = []
        for q in ["Diagnosis?", "Organism?", "Antibiotic?", "Duration?"]:
            started = next(e for e in list(chat.send(q)) if isinstance(e, PromptStarted))
            new_tokens.append(started.prompt_tokens - started.cached_tokens)
        assert max(new_tokens[1:]) <= 24  # the question and the chat markers, not the history
        # Sending while the cache is being filled cancels the fill; nothing breaks.
        chat.cancel_prefill()
        assert list(chat.send("Follow-up?"))[-1].reason in ("length", "stop")
    finally:
        backend.close()


def test_continue_goes_on_from_where_a_reply_stopped(small_ctx):
    """A reply stopped at the length limit grows in place: same message, same uid, the text
    written so far kept as the start, the tokens added up; it is saved as it grows."""
    saved = []
    for seed in range(1, 30):  # a random model may end on its own before the limit: next seed
        chat = ChatSession(small_ctx, VIGNETTE, Sampling(max_tokens=6, seed=seed),
                           on_update=lambda m: saved.append((m.uid, m.status)))
        list(chat.send("What is the diagnosis?"))
        if chat.messages[-1].status == "partial":
            break
    reply = chat.messages[-1]
    assert reply.status == "partial" and chat.can_continue() == (True, "")
    uid, before_text, before_tokens = reply.uid, reply.reasoning + reply.content, reply.usage.completion_tokens
    chat.sampling = Sampling(max_tokens=6, seed=seed)
    events = list(chat.continue_reply())
    started = next(e for e in events if isinstance(e, PromptStarted))
    assert chat.messages[-1] is reply and reply.uid == uid and len(chat.messages) == 2
    assert (reply.reasoning + reply.content).startswith(before_text.rstrip())
    assert reply.usage.completion_tokens > before_tokens
    assert reply.status in ("partial", "complete") and started.prompt_tokens > 0
    assert saved[-1] == (uid, reply.status)
    assert len({u for u, _ in saved if u == uid}) == 1  # one row, updated


def test_continue_is_refused_with_a_reason_where_it_cannot_work(small_ctx):
    from gazal_desktop.core.scripted import ScriptedBackend

    chat = ChatSession(small_ctx, VIGNETTE)
    chat.messages = [ChatMessage("user", "Diagnosis?"), ChatMessage("assistant", "Pyelo", status="complete")]
    assert chat.can_continue() == (False, "")  # a complete reply has nothing to continue
    chat.messages[-1].status = "cancelled"
    chat.backend = None
    assert chat.can_continue() == (False, "Load a model to continue this reply.")

    class NoContinue(ScriptedBackend):
        supports_continue = False

    chat.backend = NoContinue()
    ok, why = chat.can_continue()
    assert not ok and "cannot continue" in why


def test_continue_after_a_length_stop_gives_the_text_of_an_uninterrupted_run(tiny_gguf):
    """Greedy decoding: 12 tokens, then Continue for 12 more, equals one run of 24 tokens.
    (The exact tokens of the stopped reply are reused from the cache, not re-tokenized.)"""
    backend = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=2048, n_threads=THREADS))
    greedy = dict(temperature=0.0, top_k=1, top_p=1.0, seed=0)
    try:
        compared = 0
        for q in [f"Question {i}: what is the most likely diagnosis?" for i in range(10)]:
            whole = ChatSession(backend, VIGNETTE, Sampling(max_tokens=24, **greedy), prefill_after_reply=False)
            list(whole.send(q))
            split = ChatSession(backend, VIGNETTE, Sampling(max_tokens=12, **greedy), prefill_after_reply=False)
            list(split.send(q))
            if split.messages[-1].status != "partial" or whole.messages[-1].status != "partial":
                continue  # the model ended by itself before 12 or 24 tokens: nothing to continue here
            list(split.continue_reply())
            a, b = whole.messages[-1], split.messages[-1]
            assert (b.reasoning, b.content) == (a.reasoning, a.content)
            assert b.usage.completion_tokens == a.usage.completion_tokens == 24
            compared += 1
            if compared == 2:
                break
        assert compared >= 1
    finally:
        backend.close()
