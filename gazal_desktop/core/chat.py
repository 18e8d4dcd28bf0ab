"""A conversation about one case vignette: prompt framing, context budget, streaming.

The vignette lives in the system message, so trimming the context to fit never drops it;
when the conversation outgrows the context, the oldest exchanges are left out (and the
user is told). Earlier turns' reasoning stays out of the context unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal

from gazal_desktop.core.backends.base import Backend, Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import AnswerDelta, ContextNotice, Event, Finished, ReasoningDelta, Usage
from gazal_desktop.core.reasoning import Step, split_steps
from gazal_desktop.core.sampling import Sampling

SYSTEM_PROMPT = (
    "You are Gazal, a clinical-reasoning tutor for medical students, residents and educators. "
    "You discuss a fictional teaching case vignette for education only; you never give advice "
    "about a real patient. Think step by step, numbering your steps (\"Step 1:\", \"Step 2:\"...). "
    "Then answer in Markdown with the headings Primary Diagnosis, Reasoning, Immediate Management "
    "and Follow-up. Say what is uncertain and what a learner should verify in current guidelines."
)

Status = Literal["complete", "partial", "cancelled", "error", "streaming"]
STATUS_FOR_FINISH = {"stop": "complete", "length": "partial", "cancelled": "cancelled", "error": "error"}


@dataclass
class ChatMessage:
    role: str  # "user" | "assistant"
    content: str  # the answer, for the assistant
    reasoning: str = ""
    status: Status = "complete"
    usage: Usage | None = None
    error: str | None = None
    reasoning_seconds: float | None = None
    prompt_tokens_at_start: int | None = None

    @property
    def steps(self) -> list[Step]:
        return split_steps(self.reasoning)


@dataclass(frozen=True)
class ContextStatus:
    used: int
    limit: int
    reserve: int  # room kept for the reply (max new tokens)

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 1.0

    @property
    def level(self) -> Literal["ok", "warn", "full"]:
        if self.used + min(self.reserve, 256) >= self.limit:
            return "full"
        return "warn" if self.used + self.reserve >= 0.8 * self.limit else "ok"

    def describe(self) -> str:
        return f"used {self.used:,} of {self.limit:,} tokens"


@dataclass
class ChatSession:
    backend: Backend
    vignette: str
    sampling: Sampling = field(default_factory=Sampling)
    system_prompt: str = SYSTEM_PROMPT
    keep_reasoning: bool = False
    messages: list[ChatMessage] = field(default_factory=list)
    # Called as a reply grows (at most every few tokens) so it can be saved as it streams.
    on_update: Callable[[ChatMessage], None] | None = None
    # Read each finished exchange into the KV cache right away (local backend), so the
    # next message starts fast however long the chat grows.
    prefill_after_reply: bool = True
    _prefill_cancel: CancelToken | None = field(default=None, repr=False)

    # -- context ------------------------------------------------------------------------
    def _system(self) -> Message:
        return {"role": "system", "content": f"{self.system_prompt}\n\nCase vignette:\n{self.vignette.strip()}"}

    def _as_message(self, m: ChatMessage) -> Message:
        content = m.content
        if m.role == "assistant" and self.keep_reasoning and m.reasoning:
            content = f"<think>\n{m.reasoning.strip()}\n</think>\n\n{content}"
        return {"role": m.role, "content": content}

    def _history(self) -> list[ChatMessage]:
        """Messages that go into the prompt: failed or empty replies are left out."""
        return [m for m in self.messages if not (m.role == "assistant" and (m.status == "error" or not m.content.strip()))]

    def build(self, history: list[ChatMessage] | None = None) -> tuple[list[Message], int]:
        """The prompt messages that fit the context, and how many old turns were left out."""
        msgs, dropped, _ = self._fit(history)
        return msgs, dropped

    def _fit(self, history: list[ChatMessage] | None = None) -> tuple[list[Message], int, int]:
        """(messages, exchanges left out, prompt tokens) for the largest history that fits."""
        history = self._history() if history is None else history
        n_ctx = self.backend.n_ctx
        reserve = min(self.sampling.max_tokens, n_ctx // 2)
        dropped = 0
        while True:
            msgs = [self._system()] + [self._as_message(m) for m in history]
            used = self.backend.count_tokens(msgs)
            if used + reserve <= n_ctx or len(history) <= 1:
                return msgs, dropped, used
            # Leave out the oldest exchange (a user message and the replies after it).
            cut = 1
            while cut < len(history) - 1 and history[cut].role != "user":
                cut += 1
            history = history[cut:]
            dropped += 1

    def context_status(self, draft: str = "") -> ContextStatus:
        history = self._history()
        if draft:
            history = history + [ChatMessage("user", draft)]
        msgs = [self._system()] + [self._as_message(m) for m in history]
        return ContextStatus(self.backend.count_tokens(msgs), self.backend.n_ctx, self.sampling.max_tokens)

    # -- conversation -------------------------------------------------------------------
    def send(self, text: str, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Add the learner's message and stream the reply."""
        self.cancel_prefill()
        self.messages.append(ChatMessage("user", text))
        yield from self.reply(cancel)

    def cancel_prefill(self) -> None:
        if self._prefill_cancel is not None:
            self._prefill_cancel.cancel()

    def prefill(self) -> None:
        """Read the conversation so far into the backend's cache (if it has one)."""
        prefill = getattr(self.backend, "prefill", None)
        if prefill is None:
            return
        self._prefill_cancel = CancelToken()
        msgs, _ = self.build()
        prefill(msgs, self._prefill_cancel)

    def reply(self, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Stream a reply to the conversation as it stands (also used to regenerate)."""
        msgs, dropped, used = self._fit()
        n_ctx = self.backend.n_ctx
        sampling = self.sampling
        reply = ChatMessage("assistant", "", status="streaming", prompt_tokens_at_start=used)
        self.messages.append(reply)
        if dropped:
            yield ContextNotice(used, n_ctx, dropped,
                                f"The conversation is longer than the context; the {dropped} oldest "
                                f"exchange(s) were left out. The case vignette is always kept.")
        room = n_ctx - used
        if room < 16:
            reply.status, reply.error = "error", (
                f"The case and your message need {used:,} tokens, more than the context of {n_ctx:,}. "
                "Raise the context length in Settings or shorten the message.")
            yield Finished("error", reply.error)
            self._notify(reply)
            return
        if room < sampling.max_tokens:
            sampling = Sampling(**{**sampling.__dict__, "max_tokens": room})
            if not dropped:
                yield ContextNotice(used, n_ctx, 0,
                                    f"The context is nearly full ({used:,} of {n_ctx:,} tokens): "
                                    f"the reply can be at most {room:,} tokens.")
        pending = 0
        for ev in self.backend.stream(msgs, sampling, cancel):
            if isinstance(ev, ReasoningDelta):
                if ev.replaces_answer:
                    reply.reasoning, reply.content = reply.reasoning + reply.content, ""
                reply.reasoning += ev.text
                pending += 1
            elif isinstance(ev, AnswerDelta):
                reply.content += ev.text
                pending += 1
            elif isinstance(ev, Usage):
                reply.usage = ev
                reply.reasoning_seconds = ev.reasoning_s
            elif isinstance(ev, Finished):
                reply.status = STATUS_FOR_FINISH[ev.reason]
                reply.error = ev.error
            if pending >= 16:
                pending = 0
                self._notify(reply)
            yield ev
        if reply.status == "streaming":  # a backend that ended without Finished
            reply.status = "error"
            reply.error = "The model stopped without finishing."
        self._notify(reply)
        if self.prefill_after_reply and reply.status in ("complete", "partial"):
            self.prefill()

    def _notify(self, m: ChatMessage) -> None:
        if self.on_update is not None:
            self.on_update(m)
