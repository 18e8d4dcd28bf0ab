"""What both backends share to make the answer always arrive: Qwen's closing words for a
reasoning cut short, the loop guard, the "unlimited" budget, and the prefix that puts a
stopped reply back after the generation prompt so that it can be continued.
"""

from __future__ import annotations

from typing import Hashable

# Qwen's documented way to end thinking early: a closing sentence and </think>, read as if the
# model had written them; the answer then runs on its own budget.
CLOSING_SENTENCE = "Considering the limited time, I have to give the answer now."
FORCED_CLOSE = f"\n\n{CLOSING_SENTENCE}\n</think>\n\n"

# Sampling.reasoning_budget = UNLIMITED: reasoning runs until only the answer's budget is left
# in the context, then it is closed (so even unlimited reasoning leaves room for an answer).
UNLIMITED = 0


class LoopGuard:
    """Says when reasoning repeats itself: the same run of `window` pieces (token ids
    locally, streamed text pieces from a server) for the `times`-th time. A model thinking
    in circles writes the same passage again and again."""

    def __init__(self, window: int = 24, times: int = 3) -> None:
        self.window, self.times = window, times
        self._recent: list[Hashable] = []
        self._seen: dict[tuple, int] = {}

    def add(self, piece: Hashable) -> bool:
        self._recent.append(piece)
        if len(self._recent) < self.window:
            return False
        key = tuple(self._recent[-self.window:])
        self._seen[key] = self._seen.get(key, 0) + 1
        return self._seen[key] >= self.times


def effective_budget(budget: int | None, room: int, answer_tokens: int, closing_tokens: int) -> int | None:
    """The reasoning budget to apply with `room` tokens left in the context: UNLIMITED
    becomes "all but the answer's share"; None stays None (one limit for both)."""
    if budget is None:
        return None
    if budget == UNLIMITED:
        return max(1, room - answer_tokens - closing_tokens)
    return budget


def budget_message(tokens: int) -> str:
    return f"Reasoning was cut at {tokens:,} tokens (its budget); the answer follows on its own budget."


def loop_message(tokens: int) -> str:
    return (f"Reasoning was going in circles (the same passage repeated), so it was closed after "
            f"{tokens:,} tokens; the answer follows.")


def continuation_prefix(opened: bool, reasoning: str, answer: str) -> str:
    """What goes after the generation prompt to continue a reply that stopped with
    `reasoning` and `answer` written; `opened`: the prompt already opened <think>."""
    prefix = ""
    if reasoning:
        prefix = ("" if opened else "<think>\n") + reasoning
        if answer:
            prefix += "\n</think>\n\n" + answer
    elif answer:
        prefix = ("</think>\n\n" if opened else "") + answer
    return prefix


__all__ = ["CLOSING_SENTENCE", "FORCED_CLOSE", "UNLIMITED", "LoopGuard", "effective_budget",
           "budget_message", "loop_message", "continuation_prefix"]
