"""One reply from an OpenAI-compatible server, with the reasoning budget, the loop guard and
Continue working as they do on the local backend.

How reasoning is closed depends on what the server can do (`ServerTraits`):
- a server that takes a raw prompt in the model's format (llama-server's /apply-template,
  or a ChatML model on llama-cpp-python's server or vLLM): the reply streams from
  /v1/completions with a prompt we render; at the budget the stream is closed and a second
  request goes on from the same text with Qwen's closing sentence and </think> appended, the
  same tokens the local backend reads into its cache.
- llama-server, on that path, also gets the budget in the request (`reasoning_budget_tokens`
  with the think tags, Qwen's closing sentence as `reasoning_budget_message`, and the open
  assistant turn as `generation_prompt`), so it closes reasoning itself at exactly N tokens;
  we step in only if it runs past (an older build). On the chat endpoint (no
  /apply-template) it gets `reasoning_budget_tokens`/`thinking_budget_tokens`.
- any other server: at the budget the stream is closed and the answer is asked for again with
  reasoning switched off (`chat_template_kwargs.enable_thinking = false`, Qwen3's switch).

Pieces are counted as tokens: llama.cpp's servers stream one token per chunk; vLLM may send
several, so there the budget is approximate.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Iterator

from gazal_desktop.core.budget import (
    CLOSING_SENTENCE, FORCED_CLOSE, LoopGuard, budget_message, continuation_prefix, effective_budget, loop_message,
)
from gazal_desktop.core.backends.openai_compat import DONE, ConnectionLost, NotAStream, ServerRefused, error_text
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event, Finished, ReasoningClosed, ReasoningDelta, Usage
from gazal_desktop.core.reasoning import ReasoningParser, prompt_opens_reasoning
from gazal_desktop.core.sampling import Sampling

if TYPE_CHECKING:
    from gazal_desktop.core.backends.openai_compat import OpenAIBackend

FINISH = {"stop": "stop", "length": "length", "eos": "stop", "tool_calls": "stop", "content_filter": "error"}
CLOSE_TOKENS = 24  # about what FORCED_CLOSE tokenizes to, kept free for it
NATIVE_SLACK = 8  # llama-server closes reasoning itself; we step in only this far past its closing words


class _ServerError(Exception):
    """An error object in the stream."""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


class ServerReply:
    def __init__(self, backend: "OpenAIBackend", messages: list[dict], s: Sampling, cancel: CancelToken,
                 estimate: int) -> None:
        self.b, self.messages, self.s, self.cancel, self.estimate = backend, messages, s, cancel, estimate
        self.parser = ReasoningParser()
        self.guard = LoopGuard()
        self.n = self.n_reason = self.n_answer = 0
        self.answer_limit: int | None = None
        # Text that grows a piece at a time is kept in lists (a string attribute grown with +=
        # is copied whole for every token): the reasoning shown so far, and on the raw path the
        # prompt and everything generated after it.
        self._reasoning: list[str] = []
        self._prompt: list[str] | None = None
        self.usage: dict | None = None
        self.timings: dict | None = None
        self.legs = 0
        self.ended = False  # the last request ended as the server meant it to ([DONE], a finish reason, or our own cut)
        self.reason: str | None = None
        self.t0 = time.perf_counter()
        self.first: float | None = None
        self.field_start: float | None = None  # reasoning in its own field: when it began and ended
        self.field_end: float | None = None

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def prompt(self) -> str:
        return "".join(self._prompt or ())

    # -- the whole reply ----------------------------------------------------------------
    def run(self, json_schema: dict | None, continue_from: tuple[str, str] | None) -> Iterator[Event]:
        try:
            if json_schema is not None:
                yield from self._structured(json_schema)
            elif continue_from is not None:
                yield from self._raw(continue_from)
            elif self.b.traits().raw_prompts:
                # the model's own prompt format: we know whether it opened <think>, so reasoning is
                # never shown as the answer, and the budget and Continue work as they do locally
                yield from self._raw(None)
            else:
                yield from self._chat()
        except ServerRefused as exc:
            yield Finished("error", f"The server refused the request ({exc.status}): {error_text(exc.detail)}")
            return
        except NotAStream as exc:
            yield from self.parser.finish()
            yield Finished("error", f"The server at {self.b.base_url} answered with something other than a stream: {exc}")
            return
        except (ConnectionLost, _ServerError) as exc:
            yield from self.parser.finish()
            if self.n:  # what arrived is kept, marked as cut off
                yield self._usage()
                yield Finished("interrupted", f"{exc}; what arrived is kept.")
            else:
                yield Finished("error", str(exc))
            return
        yield from self.parser.finish()
        yield self._usage()
        if self.cancel.cancelled:
            yield Finished("cancelled")
        elif not self.ended:
            yield Finished("interrupted", "The server closed the connection before the reply ended; what arrived is kept.")
        else:
            yield Finished(self.reason or "stop")

    def _budget(self) -> int | None:
        if self.s.reasoning_budget is None:
            return None
        return effective_budget(self.s.reasoning_budget, self.b.n_ctx - self.estimate, self.s.max_tokens, CLOSE_TOKENS)

    def _structured(self, json_schema: dict) -> Iterator[Event]:
        """The OpenAI `json_schema` response format (vLLM, llama-server) and, for servers that
        refuse it (llama-cpp-python's), `json_object` with the schema attached."""
        formats = [{"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema, "strict": True}},
                   {"type": "json_object", "schema": json_schema}]
        for n, fmt in enumerate(formats):
            body = self._chat_body()
            body["response_format"] = fmt
            try:
                yield from self._leg(f"{self.b._prefix}/chat/completions", body, limit=None)
                return
            except ServerRefused as exc:
                # llama-cpp-python's server answers a format it does not know with a 500
                if n + 1 < len(formats) and (exc.status in (400, 422) or "response_format" in exc.detail):
                    continue
                raise

    def _chat_body(self) -> dict:
        body = self.b.sampling_body(self.s)
        body["messages"] = self.messages
        body["stream_options"] = {"include_usage": True}
        return body

    def _chat(self) -> Iterator[Event]:
        budget = self._budget()
        body = self._chat_body()
        native = budget is not None and self.b.traits().native_budget
        if budget is not None:
            body["max_tokens"] = budget + self.s.max_tokens + CLOSE_TOKENS
            self.answer_limit = self.s.max_tokens
        if native:
            body.update(reasoning_budget_tokens=budget, thinking_budget_tokens=budget,
                        reasoning_budget_message=f"\n\n{CLOSING_SENTENCE}\n")
        limit = None if budget is None else budget + (NATIVE_SLACK if native else 0)
        closing = yield from self._leg(f"{self.b._prefix}/chat/completions", body, limit=limit,
                                       native_budget=budget if native else None)
        if closing not in ("budget", "loop") or self.cancel.cancelled:
            return
        if self.b.traits().raw_prompts:
            base = self.b.render(self.messages)
            self._prompt = [base, continuation_prefix(prompt_opens_reasoning(base), self.reasoning, "")]
            yield from self._close(closing)
            raw = self.b.sampling_body(self.s)
            raw.update(prompt=self.prompt, max_tokens=self.s.max_tokens)
            yield from self._leg(f"{self.b._prefix}/completions", raw, limit=None, raw=True)
        else:
            yield from self._close(closing, " This server cannot take the reasoning back, so the answer was "
                                            "asked for again with reasoning switched off.")
            again = {k: v for k, v in body.items() if not k.startswith(("reasoning_budget", "thinking_budget"))}
            again.update(max_tokens=self.s.max_tokens, chat_template_kwargs={"enable_thinking": False})
            yield from self._leg(f"{self.b._prefix}/chat/completions", again, limit=None, answer_only=True)

    def _raw(self, continue_from: tuple[str, str] | None) -> Iterator[Event]:
        if not self.b.supports_continue:
            raise _ServerError(self.b.continue_unavailable)
        reasoning, answer = continue_from or ("", "")
        base = self.b.render(self.messages)
        opened = prompt_opens_reasoning(base)
        self.parser = ReasoningParser(in_reasoning=(opened or bool(reasoning)) if not answer else False,
                                      in_answer=bool(answer))
        self._prompt = [base, continuation_prefix(opened, reasoning, answer)]
        self._reasoning = [reasoning]
        budget = None if answer else self._budget()
        body = self.b.sampling_body(self.s)
        body["prompt"] = self.prompt
        limit, native = budget, None
        if budget is not None:
            self.n_reason = self.b.count_text(reasoning) if reasoning else 0  # the budget goes on
            body["max_tokens"] = max(1, budget - self.n_reason) + self.s.max_tokens + CLOSE_TOKENS
            self.answer_limit = self.s.max_tokens
            if self.b.traits().native_budget:
                # llama-server closes reasoning itself; the assistant turn so far (with any
                # reasoning being continued) is replayed to its budget sampler as already read
                prompt = self.prompt
                start = prompt.rfind("<|im_start|>assistant")
                body.update(reasoning_budget_tokens=budget, reasoning_budget_start_tag="<think>",
                            reasoning_budget_end_tags=["</think>"], reasoning_budget_message=f"\n\n{CLOSING_SENTENCE}\n",
                            generation_prompt=prompt[start:] if start >= 0 else ("<think>\n" if opened else ""))
                # its closing words stream as reasoning too: step in only once they could have ended
                closing = self.b.count_text(FORCED_CLOSE)
                body["max_tokens"] += max(0, closing - CLOSE_TOKENS)
                limit, native = budget + closing + NATIVE_SLACK, budget
        closing = yield from self._leg(f"{self.b._prefix}/completions", body, limit=limit, raw=True,
                                       native_budget=native)
        if closing in ("budget", "loop") and not self.cancel.cancelled:
            yield from self._close(closing)
            body.update(prompt=self.prompt, max_tokens=self.s.max_tokens)
            yield from self._leg(f"{self.b._prefix}/completions", body, limit=None, raw=True)

    def _close(self, why: str, extra: str = "") -> Iterator[Event]:
        """Qwen's way to end thinking early, shown as the end of the reasoning."""
        yield from self.parser.feed(FORCED_CLOSE)
        if self._prompt is not None:
            self._prompt.append(FORCED_CLOSE)
        message = budget_message(self.n_reason) if why == "budget" else loop_message(self.n_reason)
        yield ReasoningClosed(self.n_reason, why, message + extra)

    # -- one request --------------------------------------------------------------------
    def _leg(self, path: str, body: dict, *, limit: int | None, raw: bool = False, answer_only: bool = False,
             native_budget: int | None = None):
        """Stream one request. Returns "budget" or "loop" when reasoning should be closed,
        "full" when the answer used its budget, None when the server finished."""
        self.legs += 1
        self.ended = False
        parser = ReasoningParser() if answer_only else self.parser
        leg = self.b.sse(path, body, self.cancel)
        try:
            for chunk in leg:
                if chunk is DONE:
                    self.ended = True
                    continue
                if chunk.get("error"):
                    raise _ServerError(error_text(json.dumps(chunk["error"])))
                self.usage = _dict(chunk.get("usage")) or self.usage
                self.timings = _dict(chunk.get("timings")) or self.timings
                choices = chunk.get("choices")
                for choice in choices if isinstance(choices, list) else []:
                    if not isinstance(choice, dict):
                        continue  # a malformed chunk is skipped, never raised out of the stream
                    pieces = []
                    if raw:
                        pieces.append(("c", _text(choice.get("text"))))
                    else:
                        delta = _dict(choice.get("delta"))
                        pieces.append(("r", _text(delta.get("reasoning_content")) or _text(delta.get("reasoning"))))
                        pieces.append(("c", _text(delta.get("content"))))
                    for kind, text in pieces:
                        if not text:
                            continue
                        closing = yield from self._piece(kind, text, parser, answer_only, limit, native_budget)
                        if raw and self._prompt is not None:
                            self._prompt.append(text)
                        if closing:
                            self.ended = True  # cut by us, on purpose
                            return closing
                    if choice.get("finish_reason"):
                        self.reason = FINISH.get(str(choice["finish_reason"]), "stop")
                        self.ended = True
        finally:
            leg.close()
        return None

    def _piece(self, kind: str, text: str, parser: ReasoningParser, answer_only: bool, limit: int | None,
               native_budget: int | None):
        now = time.perf_counter()
        self.n += 1
        if self.first is None:
            self.first = now
        was_reasoning = self.n_reason > 0 and self.n_answer == 0
        if kind == "r":
            self.field_start = self.field_start or now
            events = [ReasoningDelta(text)]
        else:
            if self.field_start and not self.field_end:
                self.field_end = now
            events = parser.feed(text)
        for ev in events:
            if isinstance(ev, ReasoningDelta):
                if answer_only:
                    continue
                self._reasoning.append(ev.text)
            yield ev
        thinking = kind == "r" or parser.state == "reasoning"
        if thinking:
            self.n_reason += 1
        elif parser.state == "answer":
            self.n_answer += 1
            if native_budget is not None and was_reasoning and CLOSING_SENTENCE in "".join(self._reasoning[-120:]):
                yield ReasoningClosed(native_budget, "budget", budget_message(native_budget))  # the server closed it
        if thinking and limit is not None and self.n_reason >= limit:
            return "budget"
        if thinking and self.guard.add(text):
            return "loop"
        if self.answer_limit is not None and self.n_answer >= self.answer_limit:
            self.reason = "length"
            return "full"
        return None

    def _usage(self) -> Usage:
        """The server's usage when one request gave it; else our count (a piece per token)."""
        usage = self.usage if self.legs == 1 else None
        first, t_end = self.first, time.perf_counter()
        prompt_tokens = (self.usage or {}).get("prompt_tokens") or self.estimate
        completion = (usage or {}).get("completion_tokens", self.n)
        cached = ((usage or {}).get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0
        prompt_tps = gen_tps = None
        if self.timings and self.legs == 1:  # llama-server reports its own speeds
            prompt_tps = self.timings.get("prompt_per_second")
            gen_tps = self.timings.get("predicted_per_second")
        elif first and completion > 1 and t_end > first:
            gen_tps = (completion - 1) / (t_end - first)
        if self.field_start:
            reasoning_s = (self.field_end or t_end) - self.field_start
        else:
            reasoning_s = self.parser.reasoning_seconds
        return Usage(prompt_tokens, completion, cached, (first - self.t0) if first else None, prompt_tps, gen_tps,
                     reasoning_s)
