"""gazal-eval: reading the chosen option only from a reasoning model's answer, the item
formats, accuracy with its interval on a scripted backend with known answers, resuming an
interrupted run, and the console script on real llama.cpp."""

from __future__ import annotations

import json

import pytest

from gazal_desktop.core.events import AnswerDelta, Finished, PromptStarted, ReasoningDelta
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.evaluation.extract import extract_answer
from gazal_desktop.evaluation.items import EvalItem, item_from_dict, read_jsonl, starter_items
from gazal_desktop.evaluation.run import read_results, run, sampling_for, summarize, wilson

OPTS = ["Aortic dissection", "Acute pericarditis", "Pulmonary embolism", "Pneumothorax", "Myocardial infarction"]

REPLIES = [  # (a reasoning model's reply, the option it chose: None when it does not say clearly)
    ("<think>Step 1: A is unlikely. Step 2: (D) maybe. The answer is (A)?</think>\n\nThe answer is (C).", 2),
    ("<think>Option B fits the rub. Answer: B</think>## Primary Diagnosis\nPulmonary embolism\n\nAnswer: C", 2),
    ("**Answer:** D", 3),
    ("The correct answer is **(E) Myocardial infarction**.", 4),
    ("C", 2),
    ("(b)", 1),
    ("After weighing options A and D, I choose:\n\nB.\n", 1),
    ("The most likely diagnosis is acute pericarditis.", 1),
    ("The answer is a pulmonary embolism.", 2),
    ("The answer is C because the pain is pleuritic.", 2),
    ("Option A is wrong and option D is unlikely. The answer is E.", 4),
    ("My choice: (A)", 0),
    ("Either pericarditis or a pulmonary embolism; pneumothorax is less likely.", None),
    ("I am not sure.", None),
    ("Answer: F", None),
    ("Answer: Cardiac tamponade", None),
    ("Option A is wrong.", None),
    ("<think>The answer is (B).</think>", None),  # reasoning only: nothing after it to read
]


@pytest.mark.parametrize("reply,chosen", REPLIES)
def test_the_answer_is_read_only_after_the_reasoning_and_never_guessed(reply, chosen):
    assert extract_answer(reply, OPTS) == chosen


def test_medqa_medmcqa_and_mmlu_pro_shapes():
    medqa = item_from_dict({"question": "Q?", "options": {"A": "x", "B": "y", "C": "z", "D": "w"}, "answer_idx": "C",
                            "meta_info": "step1"})
    medmcqa = item_from_dict({"question": "Q?", "opa": "x", "opb": "y", "opc": "z", "opd": "w", "cop": 1,
                              "subject_name": "Pharmacology", "id": "m1"})
    mmlu = item_from_dict({"question": "Q?", "options": list("pqrstuvwxy"), "answer": "J", "answer_index": 9,
                           "category": "health"})
    assert (medqa.answer, medqa.subject, len(medqa.options)) == (2, "step1", 4)
    assert (medmcqa.answer, medmcqa.subject, medmcqa.id) == (1, "Pharmacology", "m1")
    assert (mmlu.answer, mmlu.subject, len(mmlu.options)) == (9, "health", 10)
    assert len(starter_items()) == 40


def test_bad_lines_are_named_and_the_rest_read(tmp_path):
    f = tmp_path / "set.jsonl"
    f.write_text(json.dumps({"question": "Q?", "options": {"A": "x", "B": "y"}, "answer_idx": "B"}) + "\n"
                 + "{not json\n" + json.dumps({"question": "Q2?", "options": {"A": "x"}, "answer_idx": "C"}) + "\n")
    items, errors = read_jsonl(f)
    assert len(items) == 1 and errors[0].startswith("line 2") and errors[1].startswith("line 3")


def _items(n):
    return [EvalItem(f"q{i}", f"Question {i}?", tuple(OPTS), i % 5, ["Cardiology", "Pulmonology"][i % 2])
            for i in range(n)]


def test_accuracy_interval_and_unparseable_on_a_scripted_backend(tmp_path):
    items = _items(10)
    replies = []
    for i, it in enumerate(items):  # 6 right, 3 wrong, 1 unparseable; reasoning mentions other letters
        pick = it.answer if i < 6 else ((it.answer + 1) % 5 if i < 9 else None)
        tail = f"The answer is ({'ABCDE'[pick]})." if pick is not None else "I cannot decide."
        replies.append(f"<think>Step 1: not (A), not (B).</think>{tail}")
    backend = ScriptedBackend(replies)
    records = run(items, backend, tmp_path / "r.jsonl", sampling_for(greedy=True))
    s = summarize(records.values())
    assert (s.n, s.correct, s.unparseable) == (10, 6, 1)
    lo, hi = s.ci
    assert (round(lo, 4), round(hi, 4)) == (0.3127, 0.8318)  # Wilson, 6 of 10 (textbook value 0.313-0.832)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert s.by_subject == {"Cardiology": (3, 5), "Pulmonology": (3, 5)}
    sent = backend.calls[0]
    assert sent[0]["role"] == "system" and "A. Aortic dissection" in sent[1]["content"]


class FailsAfter(ScriptedBackend):
    """Answers `k` items correctly, then the process is interrupted (Ctrl+C)."""

    def __init__(self, items, k):
        super().__init__([f"The answer is ({'ABCDE'[it.answer]})." for it in items])
        self.k = k

    def stream(self, messages, sampling, cancel=None, **kw):
        if len(self.calls) >= self.k:
            raise KeyboardInterrupt
        yield from super().stream(messages, sampling, cancel, **kw)


def test_an_interrupted_run_resumes_where_it_stopped_and_a_cut_line_is_dropped(tmp_path):
    items = _items(6)
    out = tmp_path / "r.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(items, FailsAfter(items, 4), out, sampling_for(greedy=True))
    assert len(read_results(out)) == 4
    with open(out, "a") as f:
        f.write('{"id": "q4", "predic')  # a line cut off by a crash
    again = ScriptedBackend([f"The answer is ({'ABCDE'[it.answer]})." for it in items[4:]])
    records = run(items, again, out, sampling_for(greedy=True))
    assert len(again.calls) == 2  # only the two not answered
    assert len(records) == 6 and all(r["correct"] for r in records.values())
    assert len(out.read_text().splitlines()) == 6


def test_a_model_failure_stops_the_run_without_recording_a_wrong_answer(tmp_path):
    from gazal_desktop.evaluation.run import EvalError

    class Broken(ScriptedBackend):
        def stream(self, messages, sampling, cancel=None, **kw):
            yield PromptStarted(10, 0)
            yield Finished("error", "the server went away")

    with pytest.raises(EvalError, match="the server went away"):
        run(_items(2), Broken(), tmp_path / "r.jsonl", sampling_for(greedy=True))
    assert read_results(tmp_path / "r.jsonl") == {}


def test_reasoning_that_spills_into_the_answer_is_not_read(tmp_path):
    class Spill(ScriptedBackend):
        def stream(self, messages, sampling, cancel=None, **kw):
            yield PromptStarted(10, 0)
            yield AnswerDelta("The answer is (A)")
            yield ReasoningDelta(" ... so maybe not.", replaces_answer=True)  # it was reasoning after all
            yield AnswerDelta("The answer is (B).")
            yield Finished("stop")

    (rec,) = run(_items(1)[:1], Spill(), tmp_path / "r.jsonl", sampling_for(greedy=True)).values()
    assert rec["predicted"] == "B" and "The answer is (A)" in rec["reasoning"]


def test_the_console_script_on_real_llama_cpp_writes_auditable_results(tiny_gguf, tmp_path, capsys):
    from gazal_desktop.evaluation.cli import main
    from testenv import THREADS

    out = tmp_path / "starter.jsonl"
    rc = main(["--starter", "--gguf", str(tiny_gguf), "--limit", "2", "--greedy", "--max-tokens", "24",
               "--reasoning-budget", "8", "--ctx", "2048", "--threads", str(THREADS), "--out", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 2 and summary["items"] == 2 and 0 <= summary["accuracy"] <= 1
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in recs] == ["starter-001", "starter-002"]
    assert all(r["finish"] in ("stop", "length") and r["completion_tokens"] for r in recs)
    assert all((r["predicted"] is None) or r["predicted"] in "ABCDE" for r in recs)


def test_the_console_script_against_a_real_server_process(llama_server, tmp_path, capsys):
    from gazal_desktop.evaluation.cli import main

    out = tmp_path / "server.jsonl"
    rc = main(["--starter", "--server", llama_server + "/v1", "--model", "tiny-gazal", "--limit", "2", "--greedy",
               "--max-tokens", "24", "--reasoning-budget", "8", "--out", str(out), "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 2 and len(out.read_text().splitlines()) == 2
    again = main(["--starter", "--server", llama_server + "/v1", "--model", "tiny-gazal", "--limit", "2", "--out",
                  str(out), "--json"])  # all answered: nothing is asked again
    assert again == 0 and len(out.read_text().splitlines()) == 2
