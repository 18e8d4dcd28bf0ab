"""Split a token stream into reasoning (``<think>…</think>``) and answer, incrementally.

Robust to tags split across tokens, a ``<think>`` that the chat template already put in
the prompt (Qwen3/Gazal do), and a ``</think>`` that never comes because generation
stopped. Gazal reasons in numbered ``Step N:`` lines; :func:`split_steps` lists them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from gazal_desktop.core.events import AnswerDelta, ReasoningDelta

OPEN, CLOSE = "<think>", "</think>"


def prompt_opens_reasoning(prompt: str) -> bool:
    """True when the rendered prompt ends inside an open ``<think>`` block."""
    return prompt.rstrip().endswith(OPEN)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


class ReasoningParser:
    """Feed text pieces; get ReasoningDelta/AnswerDelta events in order.

    States: "start" (nothing but whitespace yet), "reasoning", "answer".
    """

    def __init__(self, in_reasoning: bool = False, clock=time.monotonic, in_answer: bool = False) -> None:
        """`in_reasoning`: the prompt opened <think>; `in_answer`: a reply being continued
        had already begun its answer (its text is not stripped or reinterpreted)."""
        self._clock = clock
        self._created = clock()
        self.state = "answer" if in_answer else ("reasoning" if in_reasoning else "start")
        self._buf = ""
        self.reasoning = ""
        self.answer = ""
        self.started_at: float | None = clock() if (in_reasoning or in_answer) else None
        self.ended_at: float | None = self.started_at if in_answer else None
        self._answer_started = in_answer
        self.unclosed = False  # generation stopped before </think>

    # -- public -----------------------------------------------------------------------
    @property
    def reasoning_closed(self) -> bool:
        return self.ended_at is not None

    @property
    def reasoning_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self._clock()
        return max(0.0, end - self.started_at)

    @property
    def steps(self) -> list["Step"]:
        return split_steps(self.reasoning)

    def feed(self, text: str) -> list[ReasoningDelta | AnswerDelta]:
        self._buf += text
        out: list[ReasoningDelta | AnswerDelta] = []
        while True:
            if self.state == "start":
                stripped = self._buf.lstrip()
                if not stripped:
                    return out
                if stripped.startswith(OPEN):
                    self._buf = stripped[len(OPEN):]
                    self.state = "reasoning"
                    self.started_at = self._clock()
                    continue
                if OPEN.startswith(stripped):
                    return out  # could still become <think>
                self.state = "answer"
                self._buf = stripped
                continue
            if self.state == "reasoning":
                i = self._buf.find(CLOSE)
                if i >= 0:
                    self._emit_reasoning(self._buf[:i], out)
                    self._buf = self._buf[i + len(CLOSE):]
                    self.state = "answer"
                    self.ended_at = self._clock()
                    continue
                keep = _partial_suffix(self._buf, CLOSE)
                self._emit_reasoning(self._buf[: len(self._buf) - keep], out)
                self._buf = self._buf[len(self._buf) - keep:]
                return out
            # answer
            if self.started_at is None:
                # No <think> seen: the prompt may have opened it unseen. A </think> now
                # turns everything so far into reasoning.
                i = self._buf.find(CLOSE)
                if i >= 0:
                    new = self._buf[:i] if self.answer else self._buf[:i].lstrip("\n")
                    self._buf = self._buf[i + len(CLOSE):]
                    self.answer, self.reasoning = "", self.answer + new
                    self.started_at, self.ended_at = self._created, self._clock()
                    self._answer_started = False
                    out.append(ReasoningDelta(new, replaces_answer=True))
                    continue
                keep = _partial_suffix(self._buf, CLOSE)
                text_now, self._buf = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep:]
            else:
                text_now, self._buf = self._buf, ""
            if not self._answer_started:
                text_now = text_now.lstrip()
                if not text_now:
                    return out
                self._answer_started = True
            self.answer += text_now
            out.append(AnswerDelta(text_now))
            return out

    def finish(self) -> list[ReasoningDelta | AnswerDelta]:
        """Flush what was held back (a partial tag that never completed)."""
        out: list[ReasoningDelta | AnswerDelta] = []
        rest, self._buf = self._buf, ""
        if self.state == "reasoning":
            self._emit_reasoning(rest, out)
            if self.started_at is not None and self.ended_at is None:
                self.ended_at = self._clock()  # stopped while thinking: unclosed
                self.unclosed = True
        elif rest.strip():
            text = rest if self._answer_started else rest.lstrip()
            self._answer_started = True
            self.answer += text
            out.append(AnswerDelta(text))
        return out

    def _emit_reasoning(self, text: str, out: list) -> None:
        if not self.reasoning:
            text = text.lstrip("\n")
        if text:
            self.reasoning += text
            out.append(ReasoningDelta(text))


STEP = re.compile(r"^[ \t>*_#-]*(?:\*\*)?Step\s+(\d+)\s*(?:\*\*)?\s*[:.)\-–—]\s*(?:\*\*)?", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Step:
    number: int
    text: str

    @property
    def title(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first[:120]


def split_steps(reasoning: str) -> list[Step]:
    """Gazal's numbered ``Step N:`` lines, each with the text up to the next step.

    Reasoning without step markers becomes one step per paragraph, so the panel always
    has something to list.
    """
    matches = list(STEP.finditer(reasoning))
    if not matches:
        paras = [p.strip() for p in re.split(r"\n\s*\n", reasoning) if p.strip()]
        return [Step(i + 1, p) for i, p in enumerate(paras)]
    steps = []
    preamble = reasoning[: matches[0].start()].strip()
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(reasoning)
        body = reasoning[m.end(): end].strip().strip("*").strip()
        if i == 0 and preamble:
            body = preamble + "\n" + body if body else preamble
        steps.append(Step(int(m.group(1)), body))
    return steps


@dataclass
class ParsedReply:
    """A finished reply: the pieces the library stores and the UI shows."""

    reasoning: str
    answer: str
    steps: list[Step] = field(default_factory=list)
    reasoning_seconds: float | None = None
    reasoning_closed: bool = True


def parse_complete(text: str, in_reasoning: bool = False) -> ParsedReply:
    """Parse a whole reply at once (stored messages, non-streaming servers)."""
    p = ReasoningParser(in_reasoning=in_reasoning, clock=lambda: 0.0)
    p.feed(text)
    p.finish()
    return ParsedReply(p.reasoning, p.answer, p.steps, None, not p.unclosed)
