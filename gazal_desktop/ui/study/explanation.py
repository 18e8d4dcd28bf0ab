"""What the learner sees after answering a question, as rich text (escaped: nothing from a
case or a model is read as markup)."""

from __future__ import annotations

from gazal_desktop.core.quiz import LETTERS, QuizItem
from gazal_desktop.core.quiz_session import Response
from gazal_desktop.safety import DISCLAIMER_TITLE
from gazal_desktop.ui.markdown import esc_html


def explanation_html(item: QuizItem, resp: Response | None, steps: list[str] | None = None) -> str:
    """What the learner sees after answering: right or wrong, every option's explanation, the
    teaching point, the case's answer key, and (commit-first) the model's reasoning steps."""
    parts = []
    if item.kind == "mcq":
        chosen = resp.chosen if resp else None
        if chosen is None:
            parts.append("<p><b>Not answered.</b></p>")
        elif chosen == item.answer:
            parts.append("<p style='color:#1b7f3b'><b>Correct.</b></p>")
        else:
            parts.append(f"<p style='color:#b3261e'><b>Incorrect.</b> You chose {LETTERS[chosen]}.</p>")
        parts.append(f"<p>The answer is <b>{LETTERS[item.answer]}. {esc_html(item.correct_text)}</b></p><ul>")
        for i, o in enumerate(item.options):
            mark = "✓" if i == item.answer else ("✗" if i == chosen else "")
            why = f": {esc_html(o.explanation)}" if o.explanation else ""
            parts.append(f"<li>{mark} <b>{LETTERS[i]}. {esc_html(o.text)}</b>{why}</li>")
        parts.append("</ul>")
    if item.teaching_point:
        parts.append(f"<p><b>Teaching point.</b> {esc_html(item.teaching_point)}</p>")
    key = item.answer_key
    rows = [(label, key.get(k, "")) for label, k in (("Diagnosis", "diagnosis"), ("Key findings", "findings"),
                                                     ("Management", "management"),
                                                     ("Teaching points", "teaching_points"))]
    same = " ".join(str(key.get("teaching_points", "")).split()) == " ".join(item.teaching_point.split())
    rows = [(label, v) for label, v in rows if not (label == "Teaching points" and same)]  # not shown twice
    if any(v for _, v in rows):
        parts.append("<h4>Answer key</h4>" + "".join(f"<p><b>{label}:</b> {esc_html(v)}</p>" for label, v in rows if v))
    if item.kind == "commit":
        if resp and resp.text:
            parts.insert(0, f"<h4>Your answer</h4><p>{esc_html(resp.text)}</p>")
        if steps:
            parts.append("<h4>The model's reasoning (from your discussion of this case)</h4><ol>"
                         + "".join(f"<li>{esc_html(s)}</li>" for s in steps) + "</ol>")
        elif steps is not None:
            parts.append("<p><i>No discussion with the model is saved for this case yet.</i></p>")
    if item.source == "generated":
        parts.append("<p><i>Model-written question, approved in review: check it against a current reference.</i></p>")
    parts.append(f"<p><small>{esc_html(DISCLAIMER_TITLE)}.</small></p>")
    return "".join(parts)


# -- home: due count and quiz builder -------------------------------------------------------------
