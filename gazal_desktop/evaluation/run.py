"""Run MCQ items through a backend, one response per line in a JSONL file (so a run resumes
where it stopped and can be audited), and score what is in the file."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import AnswerDelta, Finished, ReasoningDelta, Usage
from gazal_desktop.core.sampling import Sampling
from gazal_desktop.evaluation.extract import extract_answer
from gazal_desktop.core.quiz import LETTERS
from gazal_desktop.evaluation.items import EvalItem

SYSTEM = ("You are answering a multiple-choice medical examination question for an evaluation. Think step by "
          "step. Then give your final answer on its own line as: The answer is (X), where X is the letter of the "
          "single best option.")
# The model card's figures (TachyHealth/Gazal-R1-32B-GRPO-preview), printed beside a run for reference.
PUBLISHED = {"MedQA": 87.1, "MedMCQA": 71.9, "MMLU-Pro (medical)": 81.6, "PubMedQA": 79.6}


class EvalError(RuntimeError):
    pass


def sampling_for(greedy: bool, max_tokens: int = 8192, reasoning_budget: int | None = 6144) -> Sampling:
    """The model card's sampling (temperature 0.7, top_p 0.8, top_k 20) or greedy decoding."""
    if greedy:
        return Sampling(temperature=0.0, top_p=1.0, top_k=1, seed=0, max_tokens=max_tokens,
                        reasoning_budget=reasoning_budget)
    return Sampling(temperature=0.7, top_p=0.8, top_k=20, max_tokens=max_tokens, reasoning_budget=reasoning_budget)


def messages_for(item: EvalItem) -> list[dict]:
    opts = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(item.options))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{item.question}\n\n{opts}"}]


def read_results(path: Path) -> dict[str, dict]:
    """What an earlier run wrote, by item id. A line cut off by a crash is dropped (and cut
    from the file, so appending goes on cleanly)."""
    if not path.exists():
        return {}
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        keep = raw.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(keep)
        raw = raw[:keep]
    out = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "id" in rec:
            out[str(rec["id"])] = rec
    return out


def answer_item(backend, item: EvalItem, sampling: Sampling, cancel: CancelToken | None = None) -> dict:
    """One item through the backend: the record written to the results file."""
    reasoning, answer, usage, finish = [], [], None, None
    t0 = time.perf_counter()
    for ev in backend.stream(messages_for(item), sampling, cancel):
        if isinstance(ev, ReasoningDelta):
            if ev.replaces_answer:
                reasoning.append("".join(answer))
                answer.clear()
            reasoning.append(ev.text)
        elif isinstance(ev, AnswerDelta):
            answer.append(ev.text)
        elif isinstance(ev, Usage):
            usage = ev
        elif isinstance(ev, Finished):
            finish = ev
    seconds = time.perf_counter() - t0
    if finish is None or finish.reason == "error":
        raise EvalError(f"The model failed on item {item.id}: {finish.error if finish else 'no reply'}")
    if finish.reason == "cancelled":
        raise KeyboardInterrupt
    text = "".join(answer)
    chosen = extract_answer(text, item.options)
    return {"id": item.id, "subject": item.subject, "answer": LETTERS[item.answer],
            "predicted": LETTERS[chosen] if chosen is not None else None,
            "correct": chosen == item.answer, "finish": finish.reason,
            "completion_tokens": usage.completion_tokens if usage else None, "seconds": round(seconds, 3),
            "response": text, "reasoning": "".join(reasoning)}


def run(items: Iterable[EvalItem], backend, out: Path, sampling: Sampling,
        progress: Callable[[int, int, dict], None] | None = None, cancel: CancelToken | None = None) -> dict[str, dict]:
    """Answer every item not already in `out`, appending each record as it is made (flushed
    and synced: an interrupted run loses at most the item it was on). Returns the records of
    `items` found in the file, old and new."""
    items = list(items)
    done = read_results(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    todo = [it for it in items if it.id not in done]
    with open(out, "a", encoding="utf-8") as f:
        for k, item in enumerate(todo, 1):
            rec = answer_item(backend, item, sampling, cancel)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
            done[item.id] = rec
            if progress is not None:
                progress(len(items) - len(todo) + k, len(items), rec)
    return {it.id: done[it.id] for it in items if it.id in done}


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval for a proportion (sound at small n and near 0 or 1)."""
    if n == 0:
        return 0.0, 0.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Summary:
    n: int
    correct: int
    unparseable: int
    ci: tuple[float, float]
    by_subject: dict[str, tuple[int, int]] = field(default_factory=dict)  # subject: (correct, n)
    tokens_per_item: float | None = None
    seconds_per_item: float | None = None

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict:
        return {"n": self.n, "correct": self.correct, "accuracy": self.accuracy, "ci95": list(self.ci),
                "unparseable": self.unparseable, "unparseable_rate": self.unparseable / self.n if self.n else 0.0,
                "by_subject": {k: {"correct": c, "n": n, "accuracy": c / n} for k, (c, n) in self.by_subject.items()},
                "tokens_per_item": self.tokens_per_item, "seconds_per_item": self.seconds_per_item}


def summarize(records: Iterable[dict]) -> Summary:
    recs = list(records)
    n, correct = len(recs), sum(1 for r in recs if r.get("correct"))
    by: dict[str, list[int]] = {}
    for r in recs:
        b = by.setdefault(r.get("subject") or "(none)", [0, 0])
        b[0] += bool(r.get("correct"))
        b[1] += 1
    tokens = [r["completion_tokens"] for r in recs if isinstance(r.get("completion_tokens"), int)]
    secs = [r["seconds"] for r in recs if isinstance(r.get("seconds"), (int, float))]
    return Summary(n, correct, sum(1 for r in recs if r.get("predicted") is None), wilson(correct, n),
                   {k: (c, m) for k, (c, m) in sorted(by.items())},
                   sum(tokens) / len(tokens) if tokens else None, sum(secs) / len(secs) if secs else None)


def report_text(s: Summary, label: str = "") -> str:
    lo, hi = s.ci
    lines = [f"{label or 'Accuracy'}: {s.accuracy:.1%} ({s.correct} of {s.n}), 95% CI {lo:.1%}-{hi:.1%}",
             f"Unparseable answers: {s.unparseable} ({s.unparseable / s.n:.1%})" if s.n else "No items answered."]
    if s.tokens_per_item is not None:
        lines.append(f"Per item: {s.tokens_per_item:.0f} tokens, {s.seconds_per_item:.1f} s")
    if len(s.by_subject) > 1:
        lines.append("By subject:")
        lines += [f"  {k}: {c / m:.1%} ({c} of {m})" for k, (c, m) in s.by_subject.items()]
    lines.append("Published (model card, bf16, their prompts and sampling): "
                 + ", ".join(f"{k} {v}" for k, v in PUBLISHED.items())
                 + ". A different set, prompt or quantization gives a different figure: compare like with like.")
    return "\n".join(lines)
