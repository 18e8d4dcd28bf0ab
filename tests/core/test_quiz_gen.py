"""Questions written by a real llama.cpp model under a JSON-schema grammar."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gazal_desktop.core.backends.base import BackendError
from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
from gazal_desktop.core.backends.openai_compat import OpenAIBackend
from gazal_desktop.core.events import AnswerDelta, Finished
from gazal_desktop.core.quiz_gen import generate_item, generation_messages, item_schema, max_output_chars
from gazal_desktop.core.sampling import Sampling
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.library.cases import Case
from testenv import THREADS

CASE = Case(
    title="Vomiting and rapid breathing", specialty="Internal medicine",
    vignette=("A 19-year-old has two days of vomiting, thirst and weight loss. Pulse 124/min, deep rapid breathing, "
              "glucose 512 mg/dL, bicarbonate 9 mEq/L, pH 7.14, ketones high."),
    diagnosis="Diabetic ketoacidosis", management="Isotonic saline, then insulin once potassium is known.",
    teaching_points="Fluids first; potassium before insulin.",
)


@pytest.fixture(scope="module")
def backend(tiny_gguf):
    # Room for the longest item the schema allows: the tiny model's weights are random, so its
    # strings run until the grammar's length limits close them.
    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=8192, n_threads=THREADS))
    yield b
    b.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_weights_under_the_grammar_still_give_schema_valid_json(backend, seed):
    got = generate_item(backend, CASE, sampling=Sampling(seed=seed, temperature=1.0))
    data = json.loads(got.raw, strict=False)
    jsonschema.validate(data, item_schema())
    assert got.item is not None and 4 <= len(got.item.options) <= 5
    # Nonsense from random weights is caught by validation, with reasons, never a crash.
    assert all(isinstance(p, str) and p for p in got.problems)


def test_the_reply_budget_covers_the_longest_item_the_schema_allows():
    assert max_output_chars() > sum(len(k) for k in item_schema()["properties"]) + 900 + 5 * 480


def test_the_request_carries_the_case_its_key_and_the_discussion():
    scripted = ScriptedBackend([json.dumps({"stem": CASE.vignette, "question": "Which is the diagnosis?",
                                            "teaching_point": "tp", "options": [
                                                {"text": t, "correct": t == "Diabetic ketoacidosis", "explanation": "e"}
                                                for t in ("Diabetic ketoacidosis", "Gastroenteritis",
                                                          "Salicylate poisoning", "Uremia")]})])
    got = generate_item(scripted, CASE, discussion="Step 1: anion gap 26")
    assert scripted.schemas[0] == item_schema()
    prompt = scripted.calls[0][1]["content"]
    assert "Diabetic ketoacidosis" in prompt and "Step 1: anion gap 26" in prompt
    assert got.item.correct_text == "Diabetic ketoacidosis" and got.problems == []


def test_a_cut_off_reply_is_reported_not_crashed():
    got = generate_item(ScriptedBackend(['{"stem": "A 19-year-old']), CASE)
    assert got.item is None and "could not be read" in got.problems[0]


def test_a_case_too_long_for_the_context_is_refused():
    with pytest.raises(BackendError, match="too long"):
        generate_item(ScriptedBackend(n_ctx=600), CASE)


def test_a_real_server_constrains_its_output_too(llama_server):
    """llama-cpp-python's server refuses the OpenAI json_schema format; the backend falls back to
    json_object with the schema, which its grammar enforces."""
    schema = {"type": "object", "properties": {"answer": {"enum": ["A", "B", "C", "D"]}}, "required": ["answer"],
              "additionalProperties": False}
    b = OpenAIBackend(llama_server + "/v1")
    events = list(b.stream(generation_messages(CASE)[:1] + [{"role": "user", "content": "Pick one."}],
                           Sampling(max_tokens=40, seed=4), json_schema=schema))
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
    text = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    assert json.loads(text)["answer"] in "ABCD"
