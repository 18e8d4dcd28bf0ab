"""A scripted backend: replays a fixed reply, for UI tests, demos and the UI benchmark.

Behaves like the real ones (same events, Stop honoured between tokens) without a model.
"""

from __future__ import annotations

import time
from typing import Iterator

from gazal_desktop.core.backends.base import Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event, Finished, PromptStarted, Usage
from gazal_desktop.core.reasoning import ReasoningParser
from gazal_desktop.core.sampling import Sampling

DEMO_REPLY = (
    "<think>\nStep 1: Key findings: crushing chest pain, diaphoresis, ST elevation in II, III and aVF.\n"
    "Step 2: This localises to the inferior wall, usually the right coronary artery.\n"
    "Step 3: Hypotension after nitroglycerin suggests right ventricular involvement.\n"
    "Step 4: Management priorities: reperfusion, avoid preload reduction.\n</think>\n\n"
    "## Primary Diagnosis\nInferior ST-elevation myocardial infarction with right ventricular involvement.\n\n"
    "## Reasoning\n- ST elevation in the inferior leads with reciprocal changes in I and aVL\n"
    "- Hypotension with clear lungs after a nitrate points to a preload-dependent right ventricle\n\n"
    "## Immediate Management\n1. Aspirin and anticoagulation\n2. IV fluid bolus; no further nitrates\n"
    "3. Emergent primary PCI\n\n## Follow-up\nEchocardiogram; secondary prevention.\n\n"
    "*Educational discussion of a fictional case: verify against current guidelines.*"
)


def tokenize_for_replay(text: str, size: int = 4) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


class ScriptedBackend:
    name = "scripted"

    def __init__(self, replies: list[str] | None = None, delay: float = 0.0, n_ctx: int = 8192,
                 prompt_delay: float = 0.0) -> None:
        self.replies = list(replies or [DEMO_REPLY])
        self.delay = delay
        self.prompt_delay = prompt_delay
        self._n_ctx = n_ctx
        self.calls: list[list[Message]] = []
        self.schemas: list[dict | None] = []

    label = "Demo (scripted replies, no model)"

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def count_tokens(self, messages: list[Message]) -> int:
        return sum(len(m["content"]) // 4 + 4 for m in messages)

    supports_continue = True

    def stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None = None,
               json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        """With `continue_from=(reasoning, answer)`, the script's next reply is the continuation:
        reasoning text while the stopped reply had no answer yet, answer text after."""
        cancel = cancel or CancelToken()
        self.calls.append(messages)
        self.continued = continue_from
        self.schemas.append(json_schema)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        prompt = self.count_tokens(messages)
        yield PromptStarted(prompt, 0)
        t0 = time.perf_counter()
        if self.prompt_delay:
            time.sleep(self.prompt_delay)
        parser = ReasoningParser()
        if continue_from is not None and any(continue_from):  # (nothing written yet: a plain replay)
            parser = ReasoningParser(in_reasoning=not continue_from[1], in_answer=bool(continue_from[1]))
        n, first = 0, None
        reason = "stop"
        for piece in tokenize_for_replay(reply):
            if cancel.cancelled:
                reason = "cancelled"
                break
            if n >= sampling.max_tokens:
                reason = "length"
                break
            if self.delay:
                time.sleep(self.delay)
            first = first or time.perf_counter()
            n += 1
            yield from parser.feed(piece)
        yield from parser.finish()
        end = time.perf_counter()
        yield Usage(prompt, n, 0, (first - t0) if first else None, None,
                    (n - 1) / (end - first) if first and n > 1 and end > first else None, parser.reasoning_seconds)
        yield Finished(reason)

    def close(self) -> None:
        pass
