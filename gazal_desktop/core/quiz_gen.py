"""Questions written by the model from a stored case and its discussion (no Qt).

The reply is constrained by a JSON schema (llama.cpp's grammar sampler, or the server's
structured output), so it always parses; `item_from_generated` then decides whether it is a
fair question. Nothing generated enters the deck until the learner approves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from gazal_desktop.core.backends.base import Backend, BackendError
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import AnswerDelta, Finished, ReasoningDelta
from gazal_desktop.core.quiz import LIMITS, QuizItem, item_from_generated
from gazal_desktop.core.sampling import Sampling


def _text(limit: int, min_length: int = 1) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": limit}


def item_schema(n_options: tuple[int, int] = (4, 5)) -> dict:
    """The shape of a generated question. Every string and list is bounded, so even a model
    that never closes a string produces a finite, parseable object."""
    option = {
        "type": "object",
        "properties": {
            "text": _text(LIMITS["option"]),
            "correct": {"type": "boolean"},
            "explanation": _text(LIMITS["explanation"]),
        },
        "required": ["text", "correct", "explanation"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "stem": _text(LIMITS["stem"], 40),
            "question": _text(LIMITS["question"], 8),
            "options": {"type": "array", "items": option, "minItems": n_options[0], "maxItems": n_options[1]},
            "teaching_point": _text(LIMITS["teaching_point"]),
        },
        "required": ["stem", "question", "options", "teaching_point"],
        "additionalProperties": False,
    }


def max_output_chars(schema: dict | None = None) -> int:
    """An upper bound on the characters of a reply the schema allows (with the grammar's
    optional whitespace), used to size max_tokens so a reply is never cut off."""
    schema = schema or item_schema()
    props = schema["properties"]
    opt = props["options"]
    per_option = sum(p.get("maxLength", 5) + len(k) + 8 for k, p in opt["items"]["properties"].items())
    total = sum(p.get("maxLength", 0) + len(k) + 8 for k, p in props.items() if k != "options")
    total += opt["maxItems"] * (per_option + 4)
    separators = 4 + opt["maxItems"] * 4 + len(props)
    return total + separators * 22  # llama.cpp's JSON grammar allows up to ~21 whitespace chars between tokens


INSTRUCTIONS = """You write board-style single-best-answer questions for medical students, for \
education only. Use the fictional case below. Write a vignette stem (you may shorten the case, but \
keep the findings a student needs), a one-sentence lead-in question, four or five options with \
exactly one correct, a one- or two-sentence explanation for every option, and a teaching point. \
Options are short and of the same kind (all diagnoses, or all drugs, or all next steps). Never \
name or hint at the answer in the stem or lead-in. Do not use "all of the above" or "none of the \
above". Reply with the JSON object only."""


def generation_messages(case, discussion: str = "") -> list[dict]:
    """Messages asking for one item about `case` (a library Case), using its answer key and the
    learner's stored discussion with the model, when there is one."""
    parts = [f"Case: {case.title}", f"Vignette: {case.vignette}"]
    for label, text in (("Diagnosis", case.diagnosis), ("Key findings", case.key_findings),
                        ("Management", case.management), ("Teaching points", case.teaching_points)):
        if text:
            parts.append(f"{label}: {text}")
    if discussion:
        parts.append("Discussion so far (the model's earlier assessment):\n" + discussion[:3000])
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": "\n\n".join(parts)}]


@dataclass
class Generated:
    item: QuizItem | None
    problems: list[str] = field(default_factory=list)
    raw: str = ""


def generate_item(backend: Backend, case, discussion: str = "", sampling: Sampling | None = None,
                  cancel: CancelToken | None = None) -> Generated:
    """Ask the model for one question about `case`. Returns the item with the reasons it would
    be rejected (empty when it can be approved as it is). Raises BackendError if the model fails
    or is stopped."""
    schema = item_schema()
    base = sampling or Sampling()
    # Room for the longest reply the schema allows, within the context the backend has.
    messages = generation_messages(case, discussion)
    prompt = backend.count_tokens(messages)
    room = backend.n_ctx - prompt - 8
    if room < 512:
        raise BackendError(f"The case is too long to write a question from: it needs {prompt} tokens of the "
                           f"{backend.n_ctx} the model's context holds.")
    s = replace(base, max_tokens=min(room, max(base.max_tokens, max_output_chars(schema))))
    text, finished = [], None
    for ev in backend.stream(messages, s, cancel, json_schema=schema):
        if isinstance(ev, (AnswerDelta, ReasoningDelta)):
            text.append(ev.text)
        elif isinstance(ev, Finished):
            finished = ev
    raw = "".join(text).strip()
    if finished is None or finished.reason == "error":
        raise BackendError("The model could not write a question.", (finished.error or "") if finished else "")
    if finished.reason == "cancelled":
        raise BackendError("Stopped.")
    try:
        # strict=False: llama.cpp's JSON grammar lets raw control characters (a newline) into strings
        data = json.loads(raw, strict=False)
    except ValueError as exc:
        cut = finished.reason in ("length", "interrupted")
        why = ("the reply was cut off (the token limit or a dropped connection)" if cut
               else f"the reply is not valid JSON ({exc})")
        return Generated(None, [f"The model's question could not be read: {why}."], raw)
    item, problems = item_from_generated(data)
    if item is not None:
        item.case_id = getattr(case, "id", None)
    return Generated(item, problems, raw)
