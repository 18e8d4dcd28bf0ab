"""What a backend's stream yields: reasoning text, answer text, statistics, the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

FinishReason = Literal["stop", "length", "cancelled", "interrupted", "error"]  # interrupted: the line dropped mid-reply


@dataclass(frozen=True)
class PromptStarted:
    """The prompt is being processed; no token yet ("processing prompt" in the UI)."""

    prompt_tokens: int
    cached_tokens: int  # reused from the KV cache of the previous turn, not re-read


@dataclass(frozen=True)
class ReasoningDelta:
    text: str
    # The template had opened <think> in the prompt unseen: everything shown as answer so
    # far was reasoning. Consumers move their answer text to the reasoning, then add `text`.
    replaces_answer: bool = False


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    ttft_s: float | None = None  # time to first token
    prompt_tps: float | None = None  # prompt tokens processed per second
    gen_tps: float | None = None  # generated tokens per second after the first
    reasoning_s: float | None = None  # how long the model reasoned ("Reasoned for N s")


@dataclass(frozen=True)
class ContextNotice:
    """The conversation was trimmed (oldest turns left out) or the context is nearly full."""

    used: int
    limit: int
    dropped_turns: int
    message: str


@dataclass(frozen=True)
class ReasoningClosed:
    """The backend ended the model's reasoning for it (budget reached, or a loop) and the
    answer follows on its own budget."""

    tokens: int  # reasoning tokens when it was closed
    why: str  # "budget" | "loop"
    message: str  # in words, for the message: "Reasoning was cut at 4,096 tokens (its budget)."


@dataclass(frozen=True)
class Finished:
    reason: FinishReason
    error: str | None = None


Event = Union[PromptStarted, ReasoningDelta, AnswerDelta, Usage, ContextNotice, ReasoningClosed, Finished]
