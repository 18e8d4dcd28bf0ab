"""In-process llama.cpp through llama-cpp-python.

Loading is its own step (progress, cancellation, GPU -> CPU fallback with the reason).
Generation renders the GGUF's own chat template, reuses the KV cache for the common
prefix with the previous turn, and honours Stop between tokens and, through llama.cpp's
abort callback, in the middle of a prompt batch.
"""

from __future__ import annotations

import codecs
import json
import os
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator


from gazal_convert.errors import ConvertError
from gazal_convert.gguf_info import read_summary
from gazal_convert.llamalog import LlamaLog, load_llama

from gazal_desktop.core.backends.base import BackendError, Message
from gazal_desktop.core.backends.chat_template import (
    TemplateError, check_template, prompt_limit, render_bounded,
)
from gazal_desktop.core.backends.llama_glue import (
    AbortSwitch, GrammarDecoder, VocabInfo, patched_defaults, reuse_prefix,
)
from gazal_desktop.core.budget import (
    FORCED_CLOSE, LoopGuard, budget_message, continuation_prefix, effective_budget, loop_message,
)
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event, Finished, PromptStarted, ReasoningClosed, Usage
from gazal_desktop.core.reasoning import ReasoningParser, prompt_opens_reasoning
from gazal_desktop.core.sampling import Sampling

KV_TYPES = {"f16": 1, "q8_0": 8, "f32": 0}  # ggml type ids


@dataclass(frozen=True)
class LocalSettings:
    n_gpu_layers: int = 0  # -1: all
    n_ctx: int = 8192
    n_threads: int | None = None
    # None: llama.cpp decides per device (its "auto": on wherever the layer's device supports
    # flash attention, which every backend we ship does for Qwen3); True/False force it.
    flash_attn: bool | None = None
    kv_type: str = "f16"
    n_batch: int = 512

    def llama_kwargs(self) -> dict:
        if self.kv_type not in KV_TYPES:
            raise BackendError(f"Unknown KV cache type {self.kv_type!r}; choose f16 or q8_0")
        threads = self.n_threads or max(1, os.cpu_count() or 1)
        return dict(
            n_gpu_layers=self.n_gpu_layers, n_ctx=self.n_ctx, n_threads=threads, n_threads_batch=threads,
            flash_attn=bool(self.flash_attn), type_k=KV_TYPES[self.kv_type], type_v=KV_TYPES[self.kv_type],
            n_batch=self.n_batch, n_ubatch=min(self.n_batch, 512),
        )


def _open_llama(path: Path, settings: LocalSettings, progress, cancel: CancelToken | None):
    """(Llama, abort switch) or a BackendError with llama.cpp's own words as detail."""

    def on_progress(p: float) -> bool:
        if progress is not None:
            progress(p)
        return not (cancel is not None and cancel.cancelled)

    abort = AbortSwitch()
    with LlamaLog() as log, patched_defaults(on_progress, abort, auto_flash=settings.flash_attn is None):
        try:
            return load_llama(path, **settings.llama_kwargs()), abort
        except (ValueError, RuntimeError, OSError) as exc:
            detail = log.tail(6, contains=("error", "failed", "alloc", "memory", "unknown", "invalid", "cuda", "metal", "vulkan"))
            if cancel is not None and cancel.cancelled:
                raise BackendError("Loading was cancelled.", detail) from None
            raise BackendError(f"llama.cpp could not load the model: {exc}", detail) from None


class LocalBackend:
    name = "local"

    def __init__(self, llm, path: Path, settings: LocalSettings, fallback_reason: str | None = None,
                 abort: AbortSwitch | None = None) -> None:
        from gazal_desktop.core.backends.chat_template import bounded_formatter

        self.llm = llm
        self._abort = abort or AbortSwitch()
        self.path = Path(path)
        self.settings = settings
        self.fallback_reason = fallback_reason
        self._lock = threading.Lock()
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{self.path.name} has no chat template; convert it again with gazal-convert")
        vocab = VocabInfo(llm)
        eos_text, bos_text = vocab.eos_text, vocab.bos_text
        self._formatter = bounded_formatter(template, eos_text, bos_text)
        self._history_formatter = bounded_formatter(template, eos_text, bos_text, add_generation_prompt=False)
        self._add_bos = vocab.add_bos
        self._is_eog = vocab.is_eog
        self._piece = vocab.piece
        # Extra llama-cpp-python logits processors applied while generating (the tests use one
        # to force a token sequence, so a random-weight model behaves the same on any machine).
        self.logits_processor = None
        self._last: dict | None = None  # the last generation's exact tokens, for Continue

    # -- loading ------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | Path,
        settings: LocalSettings = LocalSettings(),
        progress: Callable[[float], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> "LocalBackend":
        """Load a GGUF. A failed GPU load falls back to the CPU and says why."""

        path = Path(path)
        try:
            summary = read_summary(path)
        except ConvertError as exc:
            raise BackendError(f"This model file cannot be used: {exc}") from None
        template = summary.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{path.name} has no chat template; convert it again with gazal-convert")
        try:
            check_template(str(template), eos="</s>", bos="<s>")  # the real texts do not change its shape
        except TemplateError as exc:
            raise BackendError(str(exc)) from None
        try:
            llm, abort = _open_llama(path, settings, progress, cancel)
            return cls(llm, path, settings, abort=abort)
        except BackendError as first:
            if settings.n_gpu_layers == 0 or (cancel is not None and cancel.cancelled):
                raise
            cpu = replace(settings, n_gpu_layers=0)
            llm, abort = _open_llama(path, cpu, progress, cancel)
            reason = f"GPU load failed ({first}); running on the CPU instead."
            if first.detail:
                reason += f" llama.cpp said: {first.detail.splitlines()[-1]}"
            return cls(llm, path, cpu, fallback_reason=reason, abort=abort)

    # -- prompts ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"Model: {self.path.name}"

    @property
    def n_ctx(self) -> int:
        return self.llm.n_ctx()

    def render(self, messages: list[Message], cancel: CancelToken | None = None) -> str:
        """The prompt, within a time limit, the learner's Stop and a length no prompt for this
        context could exceed (chat_template.py)."""
        try:
            return render_bounded(self._formatter, messages, prompt_limit(self.n_ctx, messages), cancel)
        except TemplateError as exc:
            raise BackendError(str(exc)) from None

    def tokenize_prompt(self, prompt: str) -> list[int]:
        # NFC first, as the Hugging Face tokenizer the model was trained with does: text pasted
        # from PDFs or macOS often arrives decomposed ("e" + U+0301 for "é").
        return self.llm.tokenize(unicodedata.normalize("NFC", prompt).encode("utf-8"), add_bos=self._add_bos,
                                 special=True)

    def count_tokens(self, messages: list[Message]) -> int:
        return len(self.tokenize_prompt(self.render(messages)))

    def count_text(self, text: str) -> int:
        return len(self.llm.tokenize(unicodedata.normalize("NFC", text).encode("utf-8"), add_bos=False, special=False))

    # -- generation ---------------------------------------------------------------------
    supports_continue = True

    def stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None = None,
               json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        """`continue_from=(reasoning, answer)`: go on with a reply that stopped (length limit,
        Stop, a crash): it is put back after the generation prompt, and only new text streams."""
        cancel = cancel or CancelToken()
        with self._lock:
            self._abort.cancel = cancel
            try:
                yield from self._stream(messages, sampling.validated(), cancel, json_schema, continue_from)
            finally:
                self._abort.cancel = None

    def _stream(self, messages: list[Message], s: Sampling, cancel: CancelToken,
                json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        llm = self.llm
        grammar = None
        if json_schema is not None:
            # llama.cpp's grammar sampler: only tokens that keep the output valid for the schema
            from llama_cpp import LlamaGrammar

            try:
                grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
            except Exception as exc:
                yield Finished("error", f"The answer format could not be turned into a grammar: {exc}")
                return
        prompt = rendered = self.render(messages, cancel)
        opened = grammar is None and prompt_opens_reasoning(prompt)
        parser_args = dict(in_reasoning=opened)
        prior = None  # the generation being continued, when it was this backend's last one
        if continue_from is not None:
            reasoning, answer = continue_from
            prompt += continuation_prefix(opened, reasoning, answer)
            parser_args = dict(in_reasoning=opened or bool(reasoning) if not answer else False, in_answer=bool(answer))
            last = self._last
            if last is not None and last["rendered"] == rendered and (last["reasoning"], last["answer"]) == continue_from:
                prior = last  # its exact tokens are in the cache: no re-tokenizing, the same text follows
        tokens = list(prior["ids"]) if prior is not None else self.tokenize_prompt(prompt)
        n_ctx = llm.n_ctx()
        if len(tokens) >= n_ctx:
            yield Finished("error", f"The conversation needs {len(tokens)} tokens but the context holds {n_ctx}.")
            return
        max_new = min(s.max_tokens, n_ctx - len(tokens))
        t0 = time.perf_counter()
        cached = self._reuse_prefix(tokens)
        yield PromptStarted(len(tokens), cached)
        if not self._eval_prompt(tokens, cancel):
            yield Usage(len(tokens), 0, cached)
            yield Finished("cancelled")
            return
        t_prompt = time.perf_counter() - t0
        if s.seed is not None:
            llm.set_seed(s.seed)
        parser = ReasoningParser(**parser_args)  # after the prompt: "Reasoned for" counts generation
        decoder = GrammarDecoder() if grammar is not None else codecs.getincrementaldecoder("utf-8")(errors="replace")
        if prior is not None and prior["pending"]:
            decoder.setstate((prior["pending"], 0))  # a character cut in two at the length limit
        room = n_ctx - len(tokens)
        forced = llm.tokenize(FORCED_CLOSE.encode("utf-8"), add_bos=False, special=True)
        budget = None if grammar is not None else effective_budget(s.reasoning_budget, room, s.max_tokens, len(forced))
        if budget is not None:
            max_new = room  # the answer has its own budget, s.max_tokens, counted below
        guard = LoopGuard() if grammar is None else None
        ids = list(tokens)
        n_gen, n_reason, n_answer, t_first, reason = 0, 0, 0, None, "length"
        if prior is not None and parser.state == "reasoning":  # the budget and the loop guard go on
            n_reason = prior["n_reason"]
            for t in prior["generated"]:
                guard.add(t)

        def start(from_ids):
            return llm.generate(from_ids, top_k=s.top_k, top_p=s.top_p, min_p=s.min_p, temp=s.temperature,
                                repeat_penalty=s.repeat_penalty, grammar=grammar,
                                logits_processor=self.logits_processor)

        gen = start(ids)
        try:
            while True:
                closing = None
                for tok in gen:
                    if t_first is None:
                        t_first = time.perf_counter()
                    if self._is_eog(tok):
                        reason = "stop"
                        break
                    n_gen += 1
                    ids.append(tok)
                    text = decoder.decode(self._piece(tok))
                    if text:
                        yield from parser.feed(text)
                    thinking = parser.state == "reasoning"
                    if thinking:
                        n_reason += 1
                    elif parser.state == "answer":
                        n_answer += 1
                    if cancel.cancelled:
                        reason = "cancelled"
                        break
                    if thinking and budget is not None and n_reason >= budget:
                        closing = ("budget", budget_message(n_reason))
                        break
                    if thinking and guard is not None and guard.add(tok):
                        closing = ("loop", loop_message(n_reason))
                        break
                    if n_gen >= max_new or (budget is not None and n_answer >= s.max_tokens):
                        break
                if closing is None:
                    break
                # Qwen's way to end thinking early: a closing sentence and </think>, read into the
                # KV cache as if the model had written them; the answer then runs on its own.
                gen.close()
                if n_gen + len(forced) >= room:
                    break  # no room left for an answer: stopped at the length limit
                yield from parser.feed(decoder.decode(b"", final=True) + FORCED_CLOSE)
                yield ReasoningClosed(n_reason, *closing)
                ids += forced
                gen = start(ids)
        except Exception as exc:  # an aborted decode (Stop), or llama.cpp running out of memory
            yield from parser.feed(decoder.decode(b"", final=True))
            yield from parser.finish()
            if cancel.cancelled:
                yield Usage(len(tokens), n_gen, cached, reasoning_s=parser.reasoning_seconds)
                yield Finished("cancelled")
            else:
                yield Finished("error", f"Generation failed: {exc}")
            return
        finally:
            gen.close()
        pending = b""
        if reason == "length" and grammar is None:
            pending = decoder.getstate()[0]  # kept for Continue, not shown as a broken character
        else:
            yield from parser.feed(decoder.decode(b"", final=True))
        yield from parser.finish()
        before = prior or {"reasoning": continue_from[0] if continue_from else "",
                           "answer": continue_from[1] if continue_from else "", "generated": [], "n_reason": 0}
        self._last = dict(rendered=rendered, ids=ids, pending=pending, reasoning=before["reasoning"] + parser.reasoning,
                          answer=before["answer"] + parser.answer, generated=list(before["generated"]) + ids[len(tokens):],
                          n_reason=n_reason)
        t_end = time.perf_counter()
        new_prompt = len(tokens) - cached
        yield Usage(
            prompt_tokens=len(tokens), completion_tokens=n_gen, cached_tokens=cached,
            ttft_s=(t_first - t0) if t_first else None,
            prompt_tps=new_prompt / t_prompt if t_prompt > 0 and new_prompt > 0 else None,
            gen_tps=(n_gen - 1) / (t_end - t_first) if t_first and n_gen > 1 and t_end > t_first else None,
            reasoning_s=parser.reasoning_seconds,
        )
        yield Finished(reason)

    def _reuse_prefix(self, tokens: list[int]) -> int:
        return reuse_prefix(self.llm, tokens)

    def _eval_prompt(self, tokens: list[int], cancel: CancelToken) -> bool:
        """Read the uncached part of the prompt in full batches; Stop aborts mid-batch."""
        if cancel.cancelled:
            return False
        try:
            self.llm.eval(tokens[self.llm.n_tokens:])
        except RuntimeError:
            if cancel.cancelled:  # llama_decode aborted by our callback
                return False
            raise
        return not cancel.cancelled

    def prefill(self, messages: list[Message], cancel: CancelToken | None = None) -> int:
        """Read a finished conversation into the KV cache ahead of the next message.

        After a reply, the cache holds the reply's reasoning, which the next prompt leaves
        out; reading the conversation as the next prompt will render it (while the learner
        reads and types) makes the follow-up's time to first token independent of how
        long the chat is. Stop (or a new message) aborts it; what was read is kept.
        Returns the number of tokens read.
        """
        cancel = cancel or CancelToken()
        with self._lock:
            self._abort.cancel = cancel
            try:
                prompt = render_bounded(self._history_formatter, messages, prompt_limit(self.n_ctx, messages),
                                        cancel)
                tokens = self.tokenize_prompt(prompt)
                if len(tokens) >= self.llm.n_ctx():
                    return 0
                before = self._reuse_prefix(tokens + [-1])
                self._eval_prompt(tokens, cancel)
                return self.llm.n_tokens - before
            finally:
                self._abort.cancel = None

    def close(self) -> None:
        self.llm.close()
