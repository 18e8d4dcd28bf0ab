"""The reasoning/answer split, under adversarial token boundaries."""

from __future__ import annotations

import random

import pytest

from gazal_desktop.core.events import ReasoningDelta
from gazal_desktop.core.reasoning import ReasoningParser, parse_complete, prompt_opens_reasoning, split_steps

GAZAL_REPLY = (
    "<think>\nStep 1: Identify the key findings: crushing chest pain, ST elevation in II, III, aVF.\n"
    "Step 2: The territory is inferior, usually the right coronary artery.\n"
    "Step 3: Time is myocardium; reperfusion within 90 minutes.\n</think>\n\n"
    "## Primary Diagnosis\nInferior STEMI.\n\n## Reasoning\n...\n\n## Immediate Management\n"
    "Aspirin, PCI.\n\n## Follow-up\nEchocardiogram."
)


def _run(pieces: list[str], in_reasoning: bool = False):
    p = ReasoningParser(in_reasoning=in_reasoning)
    events = []
    for piece in pieces:
        events += p.feed(piece)
    events += p.finish()
    reasoning = answer = ""
    for e in events:  # what a consumer of the stream ends up showing
        if isinstance(e, ReasoningDelta):
            if e.replaces_answer:
                reasoning, answer = reasoning + answer, ""
            reasoning += e.text
        else:
            answer += e.text
    assert (reasoning, answer) == (p.reasoning, p.answer)
    return p, reasoning, answer, events


def _random_split(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(1, 60))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def test_whole_reply_splits_into_reasoning_steps_and_answer():
    p, reasoning, answer, _ = _run([GAZAL_REPLY])
    assert reasoning.startswith("Step 1:") and "</think>" not in reasoning and "<think>" not in reasoning
    assert answer.startswith("## Primary Diagnosis") and answer.endswith("Echocardiogram.")
    assert [s.number for s in p.steps] == [1, 2, 3]
    assert p.steps[1].text.startswith("The territory is inferior")
    assert p.reasoning_closed and not p.unclosed


@pytest.mark.parametrize("seed", range(40))
def test_any_token_split_gives_the_same_result(seed):
    rng = random.Random(seed)
    _, reasoning, answer, _ = _run(_random_split(GAZAL_REPLY, rng))
    _, ref_reasoning, ref_answer, _ = _run([GAZAL_REPLY])
    assert (reasoning, answer) == (ref_reasoning, ref_answer)


def test_every_single_character_split():
    _, reasoning, answer, events = _run(list(GAZAL_REPLY))
    assert "think>" not in reasoning + answer and "<" not in reasoning
    assert answer.startswith("## Primary Diagnosis")
    # Nothing of the closing tag leaks as a reasoning delta while it is being typed.
    assert all("</" not in e.text for e in events)


def test_think_already_in_the_prompt():
    prompt = "<|im_start|>user\nCase...<|im_end|>\n<|im_start|>assistant\n<think>\n"
    assert prompt_opens_reasoning(prompt)
    assert not prompt_opens_reasoning(prompt + "\n</think>\n\n")
    body = GAZAL_REPLY[len("<think>\n"):]
    p, reasoning, answer, _ = _run(_random_split(body, random.Random(7)), in_reasoning=True)
    assert reasoning.startswith("Step 1:") and answer.startswith("## Primary Diagnosis")


def test_close_tag_without_open_when_the_template_opened_it_unknowingly():
    p, reasoning, answer, events = _run(["Step 1: think.\n</th", "ink>\nAnswer here."])
    assert reasoning == "Step 1: think.\n" and answer == "Answer here."
    assert any(getattr(e, "replaces_answer", False) for e in events)
    assert p.reasoning_closed and [s.number for s in p.steps] == [1]


def test_unclosed_reasoning_when_generation_stops():
    p, reasoning, answer, _ = _run(["<think>\nStep 1: Consider PE.\nStep 2: Wells score is </thi"])
    assert answer == ""
    assert p.unclosed and reasoning.endswith("</thi")  # held-back partial tag is flushed as text
    assert [s.number for s in p.steps] == [1, 2]
    assert p.reasoning_seconds is not None


def test_no_reasoning_at_all():
    p, reasoning, answer, _ = _run(["  \n", "The answer", " is (C)."])
    assert reasoning == "" and answer == "The answer is (C)." and p.reasoning_seconds is None


def test_a_lone_less_than_in_the_answer_is_not_held_forever():
    _, _, answer, _ = _run(["<think>x</think>", "Potassium <", "5.5 is normal"])
    assert answer == "Potassium <5.5 is normal"


def test_reasoning_time_is_measured_between_the_tags():
    now = [0.0]
    p = ReasoningParser(clock=lambda: now[0])
    p.feed("<think>")
    now[0] = 4.5
    p.feed("Step 1: x</think>")
    now[0] = 10.0
    p.feed("answer")
    assert p.reasoning_seconds == pytest.approx(4.5)


def test_steps_with_markdown_decoration_and_fallback_paragraphs():
    text = "Let me think.\n**Step 1:** History.\n- **Step 2.** Exam\n### Step 3) Labs"
    assert [(s.number, s.text) for s in split_steps(text)] == [
        (1, "Let me think.\nHistory."), (2, "Exam"), (3, "Labs")
    ]
    assert [s.text for s in split_steps("First idea.\n\nSecond idea.")] == ["First idea.", "Second idea."]


def test_parse_complete():
    r = parse_complete(GAZAL_REPLY)
    assert r.answer.startswith("## Primary Diagnosis") and len(r.steps) == 3 and r.reasoning_closed
