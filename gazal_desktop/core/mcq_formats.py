"""Multiple-choice items as public medical question sets write them, read one way for the
library's import and for gazal-eval: MedQA (question, options {A: ...} or a list, answer_idx),
MedMCQA (question, opa-opd, cop, subject_name) and MMLU-Pro (question, options [...],
answer / answer_index, category). Problems are ValueErrors said in words."""

from __future__ import annotations

from dataclasses import dataclass

from gazal_desktop.core.quiz import LETTERS


@dataclass(frozen=True)
class McqFields:
    question: str
    options: list[str]
    letters: list[str]  # each option's letter in the source
    answer: int  # index into options
    subject: str
    format: str  # "MedQA", "MedMCQA" or "MMLU-Pro"


def parse_mcq(d: object) -> McqFields:
    if not isinstance(d, dict):
        raise ValueError("expected an object")
    q = d.get("question")
    if not isinstance(q, str) or not q.strip():
        raise ValueError("missing 'question'")
    if "opa" in d:  # MedMCQA: cop is the index of the right option (0-3 in the published files)
        options, letters, cop = [d.get(k) for k in ("opa", "opb", "opc", "opd")], list("ABCD"), d.get("cop")
        if isinstance(cop, bool) or not isinstance(cop, int) or not 0 <= cop < 4:
            raise ValueError(f"'cop' {cop!r} is not 0-3")
        answer, fmt, subject = cop, "MedMCQA", d.get("subject_name")
    else:
        raw = d.get("options")
        if isinstance(raw, list):
            raw = {LETTERS[i]: o for i, o in enumerate(raw[:len(LETTERS)])}
        if not isinstance(raw, dict) or len(raw) < 2:
            raise ValueError("'options' must map letters to at least two answers")
        if not all(isinstance(k, str) for k in raw):
            raise ValueError("'options' must map letters to answers")
        letters = sorted(raw)
        options = [raw[k] for k in letters]
        if isinstance(d.get("answer_index"), int) and not isinstance(d.get("answer_index"), bool):
            answer, fmt = d["answer_index"], "MMLU-Pro"
            if not 0 <= answer < len(options):
                raise ValueError(f"'answer_index' {answer} is not one of the {len(options)} options")
        else:
            key = d.get("answer_idx")
            if not isinstance(key, str) or key not in raw:
                raise ValueError(f"'answer_idx' {key!r} is not one of the options {', '.join(letters)}")
            answer, fmt = letters.index(key), "MedQA"
        subject = d.get("category") if fmt == "MMLU-Pro" else d.get("meta_info")
    if not all(isinstance(o, (str, int, float)) and not isinstance(o, bool) for o in options):
        raise ValueError("'options' must map letters to answers")
    return McqFields(q.strip(), [str(o) for o in options], letters, answer, str(subject or ""), fmt)
