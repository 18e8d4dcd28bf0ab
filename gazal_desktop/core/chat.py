"""A conversation about one case vignette: prompt framing, context budget, streaming.

The vignette lives in the system message, so trimming the context to fit never drops it;
when the conversation outgrows the context, the oldest exchanges are left out (and the
user is told). Earlier turns' reasoning stays out of the context unless asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal

from gazal_desktop.core.backends.base import Backend, Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import (
    AnswerDelta, ContextNotice, Event, Finished, ReasoningClosed, ReasoningDelta, Usage,
)
from gazal_desktop.core.reasoning import Step, split_steps
from gazal_desktop.core.sampling import Sampling
from gazal_desktop.safety.framing import MODEL_SAFETY_RULES

SYSTEM_PROMPT = (
    "You are Gazal, a clinical-reasoning tutor for medical students, residents and educators. "
    "You discuss a fictional teaching case vignette for education only; you never give advice "
    "about a real patient. Think step by step, numbering your steps (\"Step 1:\", \"Step 2:\"...). "
    "Then answer in Markdown with the headings Primary Diagnosis, Reasoning, Immediate Management "
    "and Follow-up. Say what is uncertain and what a learner should verify in current guidelines. "
    + MODEL_SAFETY_RULES
)

# complete: the model ended its reply; partial: stopped at the length limit; cancelled:
# stopped by the learner; interrupted: the app ended (crash, kill) while it streamed;
# error: the backend failed; streaming: being written now.
Status = Literal["complete", "partial", "cancelled", "interrupted", "error", "streaming"]
STATUS_FOR_FINISH = {"stop": "complete", "length": "partial", "cancelled": "cancelled", "interrupted": "interrupted",
                     "error": "error"}
STATUS_WORDS = {
    "complete": "", "streaming": "",
    "partial": "stopped at the length limit",
    "cancelled": "stopped by you",
    "interrupted": "interrupted before the reply finished",
    "error": "error",
}


def new_uid() -> str:
    return uuid.uuid4().hex


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
    notice: str | None = None  # what the backend did to the reply, e.g. "Reasoning was cut at 4,096 tokens"
    uid: str = field(default_factory=new_uid)  # stable identity: the saved row is found by it
    replaces: str | None = None  # uid of the earlier version this reply replaces (Regenerate)

    @property
    def steps(self) -> list[Step]:
        return split_steps(self.reasoning)


@dataclass(frozen=True)
class ContextStatus:
    used: int
    limit: int
    reserve: int  # room kept for the reply (max new tokens)

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
    # The one path to the store: every new message and every change to one (a reply as it
    # grows, at most every few tokens) is passed to on_update; messages taken out of the live
    # thread by Edit and resend are passed to on_superseded (kept as an earlier branch).
    on_update: Callable[[ChatMessage], None] | None = None
    on_superseded: Callable[[list[ChatMessage]], None] | None = None
    # Earlier versions of a live reply, oldest first, by the live reply's uid.
    versions: dict[str, list[ChatMessage]] = field(default_factory=dict)
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
        reserve = min(self.reply_budget, n_ctx // 2)
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

    @property
    def can_send(self) -> bool:
        """Reading a discussion needs no model; sending does."""
        return self.backend is not None

    @property
    def reply_budget(self) -> int:
        """Tokens a reply may take: the answer's budget, plus reasoning's when it has its own."""
        return self.sampling.max_tokens + (self.sampling.reasoning_budget or 0)

    def context_status(self, draft: str = "") -> ContextStatus:
        if self.backend is None:
            raise RuntimeError("No model is loaded")
        history = self._history()
        if draft:
            history = history + [ChatMessage("user", draft)]
        msgs = [self._system()] + [self._as_message(m) for m in history]
        return ContextStatus(self.backend.count_tokens(msgs), self.backend.n_ctx, self.reply_budget)

    # -- conversation -------------------------------------------------------------------
    def send(self, text: str, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Add the learner's message and stream the reply."""
        self.cancel_prefill()
        message = ChatMessage("user", text)
        self.messages.append(message)
        self._notify(message)
        yield from self.reply(cancel)

    def regenerate(self, cancel: CancelToken | None = None) -> Iterator[Event]:
        """A new version of the latest reply; the old one is kept as an earlier version."""
        if not self.messages or self.messages[-1].role != "assistant":
            raise ValueError("There is no reply to regenerate")
        self.cancel_prefill()
        old = self.messages.pop()
        earlier = self.versions.pop(old.uid, []) + [old]
        yield from self.reply(cancel, replaces=old, earlier=earlier)

    def edit_and_resend(self, index: int, text: str, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Replace the learner's message at `index` and everything after it, then reply.

        What was replaced is kept in the store as an earlier branch, and never returns to the
        live thread or to the model's context."""
        if not (0 <= index < len(self.messages)) or self.messages[index].role != "user":
            raise ValueError("Only the learner's own messages can be edited")
        self.cancel_prefill()
        cut = self.messages[index:]
        del self.messages[index:]
        gone = [v for m in cut for v in self.versions.pop(m.uid, [])] + cut
        if self.on_superseded is not None:
            self.on_superseded(gone)
        yield from self.send(text, cancel)

    def versions_of(self, message: ChatMessage) -> list[ChatMessage]:
        """Every version of a live message, oldest first, the live one last."""
        return self.versions.get(message.uid, []) + [message]

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

    def reply(self, cancel: CancelToken | None = None, replaces: ChatMessage | None = None,
              earlier: list[ChatMessage] | None = None) -> Iterator[Event]:
        """Stream a reply to the conversation as it stands."""
        if self.backend is None:
            raise RuntimeError("No model is loaded: load one to continue this discussion")
        msgs, dropped, used = self._fit()
        n_ctx = self.backend.n_ctx
        sampling = self.sampling
        reply = ChatMessage("assistant", "", status="streaming", prompt_tokens_at_start=used,
                            replaces=replaces.uid if replaces is not None else None)
        self.messages.append(reply)
        if earlier:
            self.versions[reply.uid] = earlier
        self._notify(reply)
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
        if room < self.reply_budget:
            if sampling.reasoning_budget is None:  # (with a budget, the backend stops at the context's end)
                sampling = Sampling(**{**sampling.__dict__, "max_tokens": room})
            if not dropped:
                yield ContextNotice(used, n_ctx, 0,
                                    f"The context is nearly full ({used:,} of {n_ctx:,} tokens): "
                                    f"the reply can be at most {room:,} tokens.")
        yield from self._consume(reply, self.backend.stream(msgs, sampling, cancel))

    CONTINUABLE = ("partial", "cancelled", "interrupted")

    def can_continue(self) -> tuple[bool, str]:
        """Whether the latest reply can be continued, and if not, why (shown by the view)."""
        if not self.messages or self.messages[-1].role != "assistant":
            return False, ""
        reply = self.messages[-1]
        if reply.status not in self.CONTINUABLE:
            return False, ""
        if self.backend is None:
            return False, "Load a model to continue this reply."
        if not self.backend.supports_continue:
            return False, getattr(self.backend, "continue_unavailable",
                                  "This model cannot continue a stopped reply; Regenerate writes a new one.")
        return True, ""

    def continue_reply(self, cancel: CancelToken | None = None) -> Iterator[Event]:
        """Go on with the latest reply where it stopped (length limit, Stop, a crash): the same
        message grows, keeps its identity and is saved as it streams."""
        ok, why = self.can_continue()
        if not ok:
            raise ValueError(why or "There is no stopped reply to continue")
        self.cancel_prefill()
        reply = self.messages[-1]
        history = self._history()
        history = history[:-1] if history and history[-1] is reply else history
        msgs, dropped, used = self._fit(history)
        before = reply.usage
        reply.status, reply.error = "streaming", None
        self._notify(reply)
        yield from self._consume(reply, self.backend.stream(msgs, self.sampling, cancel,
                                                            continue_from=(reply.reasoning, reply.content)),
                                 earlier_usage=before)

    def _consume(self, reply: ChatMessage, stream: Iterator[Event], earlier_usage: Usage | None = None) -> Iterator[Event]:
        """Apply a backend's events to `reply` (saving as it grows) and pass them on."""
        pending = 0
        for ev in stream:
            if isinstance(ev, ReasoningDelta):
                if ev.replaces_answer:
                    reply.reasoning, reply.content = reply.reasoning + reply.content, ""
                reply.reasoning += ev.text
                pending += 1
            elif isinstance(ev, AnswerDelta):
                reply.content += ev.text
                pending += 1
            elif isinstance(ev, Usage):
                if earlier_usage is not None:  # a continued reply: its tokens and time add up
                    ev = Usage(ev.prompt_tokens, earlier_usage.completion_tokens + ev.completion_tokens,
                               ev.cached_tokens, ev.ttft_s, ev.prompt_tps, ev.gen_tps,
                               (earlier_usage.reasoning_s or 0) + (ev.reasoning_s or 0)
                               if (earlier_usage.reasoning_s or ev.reasoning_s) else None)
                reply.usage = ev
                reply.reasoning_seconds = ev.reasoning_s
            elif isinstance(ev, ReasoningClosed):
                reply.notice = ev.message
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
