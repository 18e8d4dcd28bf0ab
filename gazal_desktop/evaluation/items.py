"""Evaluation items from the formats medical MCQ sets come in: MedQA (question, options
{A: ...}, answer_idx), MedMCQA (question, opa-opd, cop, subject_name), MMLU-Pro (question,
options [...], answer / answer_index, category), and the bundled starter deck."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

LETTERS = "ABCDEFGHIJ"


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
    """One JSONL object in any of the supported shapes."""
    if not isinstance(d, dict) or not isinstance(d.get("question"), str) or not d["question"].strip():
        raise ItemError("no 'question'")
    q = d["question"].strip()
    subject = str(d.get("subject_name") or d.get("category") or d.get("subject") or d.get("meta_info") or "")
    if "opa" in d:  # MedMCQA: cop is the index of the right option (0-3 in the published files)
        options = [str(d.get(k) or "") for k in ("opa", "opb", "opc", "opd")]
        cop = d.get("cop")
        if not isinstance(cop, int) or not 0 <= cop < 4:
            raise ItemError(f"'cop' {cop!r} is not 0-3")
        answer = cop
    else:
        raw = d.get("options")
        if isinstance(raw, dict):
            letters = sorted(raw)
            options = [str(raw[k]) for k in letters]
        elif isinstance(raw, list):
            letters = list(LETTERS[:len(raw)])
            options = [str(o) for o in raw]
        else:
            raise ItemError("no 'options'")
        if isinstance(d.get("answer_index"), int):
            answer = d["answer_index"]
        else:
            key = d.get("answer_idx", d.get("answer"))
            if not isinstance(key, str) or key.strip() not in letters:
                raise ItemError(f"the answer {key!r} is not one of the options {', '.join(letters)}")
            answer = letters.index(key.strip())
    if not 2 <= len(options) <= len(LETTERS) or not 0 <= answer < len(options):
        raise ItemError("the options or the answer are out of range")
    return EvalItem(str(d.get("id") or _id(q, options)), q, tuple(options), answer, subject)


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
