"""The local backend on real llama.cpp with a tiny GGUF that gazal-convert made."""

from __future__ import annotations

import threading

import pytest

from gazal_desktop.core.backends import BackendError
from gazal_desktop.core.backends import local as local_mod
from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import AnswerDelta, Finished, PromptStarted, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling
from testenv import THREADS

SYSTEM = {"role": "system", "content": "You are a clinical tutor. Case: a 58-year-old man with chest pain."}


@pytest.fixture(scope="module")
def backend(tiny_gguf):
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    yield b
    b.close()


def _collect(events):
    events = list(events)
    text = "".join(e.text for e in events if isinstance(e, (ReasoningDelta, AnswerDelta)))
    return events, text


def test_load_reports_progress_and_uses_the_gguf_chat_template(tiny_gguf):
    seen = []
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=512, n_threads=THREADS), progress=seen.append)
    try:
        assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
        prompt = b.render([SYSTEM, {"role": "user", "content": "What is the diagnosis?"}])
        assert prompt.startswith("<|im_start|>system\nYou are a clinical tutor.")
        assert prompt.endswith("<|im_start|>assistant\n<think>\n")
        assert b.fallback_reason is None
    finally:
        b.close()


def test_stream_shape_and_statistics(backend):
    msgs = [SYSTEM, {"role": "user", "content": "Most likely diagnosis?"}]
    events, text = _collect(backend.stream(msgs, Sampling(max_tokens=12, seed=7)))
    assert isinstance(events[0], PromptStarted) and events[0].prompt_tokens == backend.count_tokens(msgs)
    assert isinstance(events[-1], Finished) and events[-1].reason in ("length", "stop")
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.prompt_tokens == events[0].prompt_tokens
    assert 1 <= usage.completion_tokens <= 12
    assert usage.ttft_s is not None and usage.ttft_s > 0
    # The template opened <think>: what the model writes first is reasoning.
    if usage.completion_tokens:
        assert isinstance(next(e for e in events if isinstance(e, (ReasoningDelta, AnswerDelta))), ReasoningDelta)


def test_same_seed_same_text(backend):
    msgs = [SYSTEM, {"role": "user", "content": "Next step?"}]
    _, a = _collect(backend.stream(msgs, Sampling(max_tokens=10, seed=3)))
    _, b = _collect(backend.stream(msgs, Sampling(max_tokens=10, seed=3)))
    assert a == b


def test_follow_up_reuses_the_kv_cache_and_matches_a_fresh_model(backend, tiny_gguf):
    turn1 = [SYSTEM, {"role": "user", "content": "What is the ECG finding?"}]
    list(backend.stream(turn1, Sampling(max_tokens=8, seed=1)))
    turn2 = turn1 + [{"role": "assistant", "content": "ST elevation in II, III and aVF."},
                     {"role": "user", "content": "Which artery?"}]
    events, reused = _collect(backend.stream(turn2, Sampling(max_tokens=8, temperature=0.0, top_k=1)))
    started = events[0]
    assert isinstance(started, PromptStarted)
    # Everything up to the previous assistant turn was already in the cache.
    assert started.cached_tokens >= backend.count_tokens(turn1) - 8
    assert started.cached_tokens < started.prompt_tokens
    fresh = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    try:
        _, expected = _collect(fresh.stream(turn2, Sampling(max_tokens=8, temperature=0.0, top_k=1)))
        assert fresh  # a fresh model reads the whole prompt
    finally:
        fresh.close()
    assert reused == expected  # reusing the cache changes nothing in the output


def test_cancel_mid_generation_keeps_the_partial_text(backend):
    cancel = CancelToken()
    msgs = [SYSTEM, {"role": "user", "content": "Explain in detail."}]
    n = 0
    events, after = [], []
    for ev in backend.stream(msgs, Sampling(max_tokens=500, seed=2, temperature=1.0), cancel):
        events.append(ev)
        if cancel.cancelled:
            after.append(ev)
        if isinstance(ev, (ReasoningDelta, AnswerDelta)):
            n += 1
            if n == 5:
                cancel.cancel()
    assert events[-1] == Finished("cancelled")
    usage = next(e for e in events if isinstance(e, Usage))
    assert 5 <= usage.completion_tokens < 500
    # After Stop: at most the text of the token being sampled, then the end of the stream.
    assert sum(isinstance(e, (ReasoningDelta, AnswerDelta)) for e in after) <= 2
    text = "".join(e.text for e in events if isinstance(e, (ReasoningDelta, AnswerDelta)))
    assert text  # the partial reply is kept


def test_cancel_during_prompt_processing(backend):
    cancel = CancelToken()
    long_case = "A 71-year-old woman with dyspnea. " * 15
    msgs = [SYSTEM, {"role": "user", "content": long_case}]
    events = []
    for ev in backend.stream(msgs, Sampling(max_tokens=50), cancel):
        events.append(ev)
        if isinstance(ev, PromptStarted):  # Stop pressed while the prompt is being read
            threading.Thread(target=cancel.cancel).start()
            threading.Event().wait(0.01)
    assert events[-1] == Finished("cancelled")
    assert next(e for e in events if isinstance(e, Usage)).completion_tokens == 0
    # The next request works normally.
    events = list(backend.stream([SYSTEM, {"role": "user", "content": "Hi"}], Sampling(max_tokens=3, seed=1)))
    assert events[-1].reason in ("length", "stop")


def test_prompt_larger_than_context_is_an_error_event(tiny_gguf):
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=256, n_threads=THREADS))
    try:
        msgs = [SYSTEM, {"role": "user", "content": "chest pain " * 400}]
        events = list(b.stream(msgs, Sampling(max_tokens=10)))
        assert events[-1].reason == "error" and "context holds 256" in events[-1].error
    finally:
        b.close()


def test_corrupt_gguf_gets_a_clear_error(tiny_gguf, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(tiny_gguf.read_bytes()[:5000])
    with pytest.raises(BackendError, match="cannot be used.*truncated"):
        LocalBackend.load(bad)
    missing_template = tmp_path / "notemplate.gguf"
    with pytest.raises(BackendError, match="No such file"):
        LocalBackend.load(missing_template)


def test_gpu_failure_falls_back_to_cpu_and_says_why(tiny_gguf, monkeypatch):
    real = local_mod._open_llama

    def gpu_fails(path, settings, progress, cancel):
        if settings.n_gpu_layers != 0:
            raise BackendError("llama.cpp could not load the model: failed to allocate CUDA buffer",
                               "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 20480 MiB on device 0: cudaMalloc failed: out of memory")
        return real(path, settings, progress, cancel)

    monkeypatch.setattr(local_mod, "_open_llama", gpu_fails)
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_gpu_layers=-1, n_ctx=256, n_threads=THREADS))
    try:
        assert b.settings.n_gpu_layers == 0
        assert "running on the CPU" in b.fallback_reason and "out of memory" in b.fallback_reason
        assert list(b.stream([SYSTEM], Sampling(max_tokens=2)))[-1].reason in ("length", "stop")
    finally:
        b.close()


def test_cancelled_load(tiny_gguf):
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(BackendError, match="cancelled"):
        LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=256), cancel=cancel)


def test_stop_aborts_a_long_prompt_batch_midway(models):
    """One 2,000-token batch on a bigger model: Stop lands inside llama_decode itself."""
    from gazal_convert.synthetic import SyntheticSpec

    spec = SyntheticSpec(n_layers=8, hidden=512, n_head=8, n_head_kv=4, head_dim=64, ffn=1536, vocab_size=1024)
    b = LocalBackend.load(models.gguf(spec, "q8_0"), LocalSettings(n_ctx=4096, n_threads=THREADS, n_batch=4096))
    try:
        msgs = [SYSTEM, {"role": "user", "content": "Fever, cough and crackles at the right base. " * 60}]
        n_prompt = b.count_tokens(msgs)
        assert 1500 < n_prompt < 4000
        cancel = CancelToken()
        events = []
        for ev in b.stream(msgs, Sampling(max_tokens=20), cancel):
            events.append(ev)
            if isinstance(ev, PromptStarted):
                threading.Timer(0.05, cancel.cancel).start()
        assert events[-1] == Finished("cancelled")
        assert b.llm.n_tokens < n_prompt  # the batch was abandoned part-way, not finished
        # And the model is fine afterwards.
        assert list(b.stream(msgs[:1], Sampling(max_tokens=2)))[-1].reason in ("length", "stop")
    finally:
        b.close()


def _forcing(sequence):
    """A logits processor that makes the model write `sequence(i)` as its i-th token: the
    same tokens on any machine, whatever the random weights compute."""
    import numpy as np
    from llama_cpp import LogitsProcessorList

    calls = [0]

    def force(input_ids, scores):
        out = np.full_like(scores, -np.inf)
        out[sequence(calls[0])] = 0.0
        calls[0] += 1
        return out

    return LogitsProcessorList([force])


def test_a_reasoning_budget_closes_reasoning_at_exactly_n_tokens_and_an_answer_follows(tiny_gguf):
    from gazal_desktop.core.backends.local import FORCED_CLOSE
    from gazal_desktop.core.events import ReasoningClosed

    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    try:
        b.logits_processor = _forcing(lambda i: 32 + (i * 7) % 90)  # printable bytes, never </think> or EOS
        msgs = [{"role": "user", "content": "Diagnosis?"}]
        events = list(b.stream(msgs, Sampling(max_tokens=10, reasoning_budget=40, seed=1)))
        closed = [e for e in events if isinstance(e, ReasoningClosed)]
        assert len(closed) == 1 and closed[0].tokens == 40 and closed[0].why == "budget"
        assert "cut at 40 tokens" in closed[0].message
        reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
        assert reasoning.rstrip().endswith(FORCED_CLOSE.split("</think>")[0].strip()) and answer
        usage = next(e for e in events if isinstance(e, Usage))
        assert usage.completion_tokens == 50  # 40 reasoning + 10 answer (the closing words are not counted)
        assert events[-1].reason == "length"  # the answer used its own budget
    finally:
        b.close()


def test_unlimited_reasoning_is_closed_only_when_the_answer_would_not_fit(tiny_gguf):
    from gazal_desktop.core.budget import FORCED_CLOSE, UNLIMITED
    from gazal_desktop.core.events import ReasoningClosed

    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=256, n_threads=THREADS))
    try:
        b.logits_processor = _forcing(lambda i: 32 + (i * 7) % 90)
        msgs = [{"role": "user", "content": "Diagnosis?"}]
        prompt = len(b.tokenize_prompt(b.render(msgs)))
        closing = len(b.llm.tokenize(FORCED_CLOSE.encode(), add_bos=False, special=True))
        events = list(b.stream(msgs, Sampling(max_tokens=20, reasoning_budget=UNLIMITED, seed=1)))
        closed = [e for e in events if isinstance(e, ReasoningClosed)]
        assert len(closed) == 1 and closed[0].tokens == 256 - prompt - 20 - closing
        usage = next(e for e in events if isinstance(e, Usage))
        assert usage.completion_tokens == closed[0].tokens + 20  # the answer got its whole share
        assert "".join(e.text for e in events if isinstance(e, AnswerDelta))
    finally:
        b.close()


def test_a_reasoning_loop_is_detected_and_closed(tiny_gguf):
    from gazal_desktop.core.events import ReasoningClosed

    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    try:
        b.logits_processor = _forcing(lambda i: 65 + i % 5)  # "ABCDEABCDE…": thinking in circles
        events = list(b.stream([{"role": "user", "content": "Why?"}], Sampling(max_tokens=80, seed=1)))
        closed = [e for e in events if isinstance(e, ReasoningClosed)]
        assert len(closed) == 1 and closed[0].why == "loop" and closed[0].tokens < 80
        assert "going in circles" in closed[0].message
        assert any(isinstance(e, AnswerDelta) for e in events)  # the answer arrives after all
    finally:
        b.close()


def test_without_a_budget_one_limit_covers_reasoning_and_answer(tiny_gguf):
    from gazal_desktop.core.events import ReasoningClosed

    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=1024, n_threads=THREADS))
    try:
        b.logits_processor = _forcing(lambda i: 32 + (i * 7) % 90)
        events = list(b.stream([{"role": "user", "content": "Why?"}], Sampling(max_tokens=30, seed=1)))
        assert not any(isinstance(e, ReasoningClosed) for e in events)
        assert next(e for e in events if isinstance(e, Usage)).completion_tokens == 30
        assert not any(isinstance(e, AnswerDelta) for e in events)  # cut mid-reasoning: what the budget fixes
    finally:
        b.close()


def test_text_is_nfc_normalized_before_tokenizing_as_the_hf_tokenizer_does(models, tiny_gguf):
    import unicodedata

    from tokenizers import Tokenizer

    from conftest import TINY

    hf = Tokenizer.from_file(str(models.checkpoint(TINY) / "tokenizer.json"))
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=256, n_threads=THREADS))
    try:
        composed = "Fièvre, céphalée et raideur de la nuque: méningite? Naïve T cells, Ångström."
        decomposed = unicodedata.normalize("NFD", composed)
        assert decomposed != composed
        ids = b.tokenize_prompt(decomposed)
        assert ids == b.tokenize_prompt(composed)  # pasted decomposed text is read as typed
        assert ids == hf.encode(decomposed, add_special_tokens=False).ids
        assert b.count_text(decomposed) == b.count_text(composed)
    finally:
        b.close()
