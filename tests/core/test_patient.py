"""Patient mode without Qt: elicitation is decided by the program, examination findings and
results come from the script verbatim, the debrief is exact, the patient's voice never sees
the diagnosis, the findings or the results; and on real llama.cpp it streams through the same
backend path as a discussion."""

from __future__ import annotations

import json

import pytest

from gazal_desktop import resources
from gazal_desktop.core.events import Finished, PromptStarted
from gazal_desktop.core.patient import (Commit, Encounter, PatientScript, ScriptError, align_steps, debrief,
                                        patient_prompt, review_cards, speaks_to_the_patient)
from gazal_desktop.core.patient_voice import OPENING_CUE, answer, patient_chat, scripted_answer

STARTER = json.loads(resources.read_text("starter_cases.json"))["cases"]
SCRIPTED = {c["uid"]: c for c in STARTER if c.get("patient")}


def script(uid="starter-013") -> PatientScript:
    return PatientScript.from_dict(SCRIPTED[uid]["patient"])


def test_sixteen_starter_cases_two_per_specialty_have_valid_educational_scripts():
    by_specialty: dict[str, int] = {}
    for c in SCRIPTED.values():
        s = PatientScript.from_dict(c["patient"])
        assert s.educational and len(s.history) >= 6 and s.exam and len(s.tests) >= 4
        assert any(t.necessary for t in s.tests) and any(not t.necessary for t in s.tests)
        by_specialty[c["specialty"]] = by_specialty.get(c["specialty"], 0) + 1
    assert len(SCRIPTED) >= 16 and len(by_specialty) == 8 and min(by_specialty.values()) >= 2


@pytest.mark.parametrize("uid", sorted(SCRIPTED))
def test_the_patient_prompt_holds_the_history_and_never_the_diagnosis_findings_or_results(uid):
    s = script(uid)
    prompt = patient_prompt(s)
    assert s.persona in prompt and all(h.fact in prompt for h in s.history)
    assert s.diagnosis["name"] not in prompt
    for hidden in [f.result for f in s.exam] + [t.result for t in s.tests] + [d["name"] for d in s.differential]:
        assert hidden not in prompt, hidden


def test_an_item_counts_as_elicited_only_after_a_question_that_elicits_it():
    enc = Encounter(script())
    assert enc.ask("What brings you in?") == [] and enc.elicited == []
    assert [h.id for h in enc.ask("Does the pain spread anywhere, like your shoulder?")] == ["radiation"]
    assert enc.ask("Does it radiate?") == []  # already elicited: not counted twice
    assert enc.elicited == ["radiation"] and enc.turns[-1].ids == ["radiation"]
    assert "viral" not in enc.elicited
    enc.ask("Have you had a cold or been ill recently?")
    assert "viral" in enc.elicited
    assert scripted_answer(enc) == next(h.fact for h in enc.script.history if h.id == "viral")


def test_examination_and_results_come_from_the_script_verbatim_and_nothing_is_invented():
    enc = Encounter(script())
    s = enc.script
    (heart,) = enc.examine("I'd like to listen to his heart")
    assert heart.result == next(f.result for f in s.exam if f.id == "heart") and heart.result in enc.turns[-1].text
    (ecg,) = enc.order("12-lead ECG")
    assert enc.turns[-1].text == f"ECG: {ecg.result}"
    assert enc.order("serum ferritin") == [] and "no result is available" in enc.turns[-1].text
    assert enc.ordered == ["ecg", "?serum ferritin"]


def test_the_debrief_lists_and_classifications_are_exact_for_a_scripted_session():
    enc = Encounter(script())
    for q in ("Can you describe the pain?", "Is it worse lying flat or sitting up?", "Any recent cold?",
              "Does it go anywhere?", "Does breathing in make it worse?"):
        enc.ask(q)
    enc.examine("heart")
    for t in ("ECG", "troponin", "echo", "D-dimer", "MRI brain"):
        enc.order(t)
    enc.mark_covered("risk")  # the learner asked in words the matching missed
    enc.commit = Commit("Acute pericarditis", ["Myocardial infarction", "Pulmonary embolism", "Reflux"], "NSAID",
                        "1. Pleuritic, positional chest pain\n2. Rub with diffuse ST elevation and PR depression")
    d = debrief(enc)
    assert [h.id for h in d.elicited] == ["character", "position", "breathing", "viral", "radiation"]
    assert [h.id for h in d.marked] == ["risk"] and [h.id for h in d.missed] == ["onset"]
    assert [t.id for t in d.tests_needed] == ["ecg", "troponin", "echo"]
    assert [t.id for t in d.tests_missed] == ["crp", "cxr"]
    assert d.tests_unneeded == ["D-dimer", "MRI brain"]
    assert d.differential_hit == ["Acute pericarditis", "Acute coronary syndrome", "Pulmonary embolism"]
    assert d.differential_missed == ["Myocarditis", "Pneumothorax or pleurisy"] and d.differential_extra == ["Reflux"]
    assert d.diagnosis_right and [f.id for f in d.exam_missed] == ["vitals", "chest"]
    cards = review_cards(enc, d, "Sharp chest pain")
    assert [c["key"] for c in cards] == ["history:onset", "test:crp", "test:cxr"]  # the diagnosis was named


def test_a_missed_diagnosis_becomes_a_card_and_a_wrong_script_is_refused_in_words():
    enc = Encounter(script())
    enc.commit = Commit("Costochondritis")
    assert review_cards(enc, debrief(enc), "X")[-1]["key"] == "diagnosis"
    with pytest.raises(ScriptError, match="lacks 'history'"):
        PatientScript.from_dict({"persona": "p", "opening": "o", "diagnosis": {"name": "d", "ask": ["d"]}})
    bad = dict(SCRIPTED["starter-013"]["patient"], tests=[{"id": "x", "name": "X", "result": "r", "ask": []}])
    with pytest.raises(ScriptError, match="phrases that ask for it"):
        PatientScript.from_dict(bad)


def test_step_alignment_pairs_the_same_points_and_shows_gaps():
    pairs = align_steps(["Normal troponin argues against infarction", "Consider a pregnancy test"],
                        ["Pain is positional", "A normal troponin makes infarction unlikely"])
    assert pairs == [(0, 1), (1, None), (None, 0)]


def test_an_encounter_survives_saving_as_state():
    enc = Encounter(script())
    enc.ask("Describe the pain")
    enc.patient_said("Sharp.")
    enc.order("ECG")
    enc.commit = Commit("Pericarditis", ["MI"], "NSAID", "1. a")
    again = Encounter.from_state(enc.script, json.loads(json.dumps(enc.to_state())))
    assert again.turns == enc.turns and again.elicited == enc.elicited and again.commit == enc.commit
    assert patient_chat(None, again).messages[-1].content == "Sharp."


def test_the_patient_voice_streams_on_real_llama_cpp_with_only_the_history_in_its_prompt(tiny_gguf, monkeypatch):
    from gazal_desktop.core.backends.local import LocalBackend, LocalSettings
    from testenv import THREADS

    b = LocalBackend.load(tiny_gguf, LocalSettings(n_ctx=2048, n_threads=THREADS))
    try:
        seen = []
        real = b.render
        monkeypatch.setattr(b, "render", lambda msgs, cancel=None: seen.append(real(msgs, cancel)) or seen[-1])
        enc = Encounter(script("starter-016"))
        enc.ask("Have you travelled anywhere recently?")
        events = list(answer(b, enc))
        assert isinstance(events[0], PromptStarted) and isinstance(events[-1], Finished)
        prompt = seen[-1]
        s = enc.script
        assert s.persona in prompt and OPENING_CUE in prompt and "Have you travelled anywhere recently?" in prompt
        assert all(h.fact in prompt for h in s.history)
        for hidden in [s.diagnosis["name"]] + [f.result for f in s.exam] + [t.result for t in s.tests]:
            assert hidden not in prompt
        assert events[0].prompt_tokens == len(b.tokenize_prompt(prompt))
    finally:
        b.close()


def test_questions_to_the_patient_are_told_apart_from_the_learners_own_words():
    for q in ("Do you have chest pain right now?", "Are you short of breath at the moment?",
              "Have you had any thoughts of ending your life?"):
        assert speaks_to_the_patient(q), q
    for q in ("I'm having chest pain right now, what do I do?", "My father collapsed, is he breathing?",
              "Chest pain right now", "Can you help me, I can't breathe"):
        assert not speaks_to_the_patient(q), q
