"""Evaluation items from the formats medical MCQ sets come in: MedQA (question, options
{A: ...}, answer_idx), MedMCQA (question, opa-opd, cop, subject_name), MMLU-Pro (question,
options [...], answer / answer_index, category), and the bundled starter deck."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from gazal_desktop.core.mcq_formats import parse_mcq

class ItemError(ValueError):
    pass


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    options: tuple[str, ...]
    answer: int
    subject: str = ""


def _id(question: str, options: list[str]) -> str:
    return hashlib.sha256(json.dumps([question, options]).encode()).hexdigest()[:16]


def item_from_dict(d: dict) -> EvalItem:
    """One JSONL object in any of the supported shapes (core.mcq_formats)."""
    try:
        f = parse_mcq(d)
    except ValueError as e:
        raise ItemError(str(e)) from None
    return EvalItem(str(d.get("id") or _id(f.question, f.options)), f.question, tuple(f.options), f.answer, f.subject)


def read_jsonl(path: Path, limit: int | None = None) -> tuple[list[EvalItem], list[str]]:
    """The items of a JSONL file, and the lines that could not be read (by number, said why)."""
    items, errors = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                items.append(item_from_dict(json.loads(line)))
            except (ValueError, ItemError) as e:
                errors.append(f"line {n}: {e}")
            if limit is not None and len(items) >= limit:
                break
    return items, errors


def starter_items() -> list[EvalItem]:
    """The 40 single-best-answer questions of the bundled starter library: a quick set."""
    from gazal_desktop import resources

    pack = json.loads(resources.read_text("starter_cases.json"))
    return [EvalItem(c["uid"], f"{c['vignette']}\n\n{c['mcq_question']}", tuple(c["mcq_options"]), c["mcq_answer"],
                     c.get("specialty", "")) for c in pack["cases"] if c.get("mcq_options")]
