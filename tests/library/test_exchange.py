"""Import and export: JSON round trips, Markdown, case packs, MedQA JSONL, the starter library."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from gazal_desktop import resources
from gazal_desktop.library.cases import SPECIALTIES, Case, CaseStore
from gazal_desktop.library.chats import ChatStore, Conversation, StoredMessage
from gazal_desktop.library.db import Library, LibraryError
from gazal_desktop.library.exchange import (
    export_json, export_markdown, export_pack, import_json, import_medqa_jsonl, import_pack, load_starter_library,
)
from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_VERSION


@pytest.fixture
def stores(tmp_path):
    lib = Library.open(tmp_path / "a")
    yield CaseStore(lib), ChatStore(lib)
    lib.close()


def _fill(cases: CaseStore, chats: ChatStore) -> Case:
    c = cases.add(Case(title="Pyelonephritis", vignette="Fever, flank pain, nitrites. Ünïcode: β-lactam, 39.0 °C.",
                       specialty="Infectious disease", tags=["UTI", "renal"], mcq_question="Culture?",
                       mcq_options=["Yes", "No", "Only if pregnant", "Only if male"], mcq_answer=0,
                       diagnosis="Acute pyelonephritis", teaching_points="Culture before antibiotics."))
    conv = chats.start(Conversation(c.id, "First look", "Gazal-Q4_K_M.gguf", "Q4_K_M", {"temperature": 0.7}))
    chats.add_message(StoredMessage(conv.id, "user", "What organism?"))
    first = chats.add_message(StoredMessage(conv.id, "assistant", "E. coli", "Step 1: nitrites", [{"n": 1}],
                                            {"ttft_s": 0.4}, "complete"))
    chats.add_message(StoredMessage(conv.id, "assistant", "Escherichia coli", "Step 1: gram negative", [], {},
                                    "cancelled", replaces_id=first.id))
    cases.add(Case(title="Deleted one", vignette="x", deleted_at=None))
    cases.delete(cases.list(sort="title")[0].id)
    return c


def test_json_export_import_round_trips_exactly(stores, tmp_path):
    cases, chats = stores
    _fill(cases, chats)
    exported = export_json(cases, chats)
    assert exported["disclaimer"]["text"] == DISCLAIMER
    lib2 = Library.open(tmp_path / "b")
    c2, ch2 = CaseStore(lib2), ChatStore(lib2)
    report = import_json(c2, ch2, json.loads(json.dumps(exported)))
    assert report.added == 2 and not report.errors
    again = export_json(c2, ch2)
    assert again == exported
    # Importing the same file twice adds nothing.
    assert sorted(import_json(c2, ch2, exported).duplicates) == ["Deleted one", "Pyelonephritis"]
    lib2.close()


def test_markdown_is_readable_and_ends_with_the_disclaimer(stores):
    cases, chats = stores
    c = _fill(cases, chats)
    convs = [(conv, chats.messages(conv.id)) for conv in chats.conversations(c.id)]
    md = export_markdown(c, convs)
    assert md.startswith("# Pyelonephritis")
    assert "## Vignette" in md and "A. Yes" in md and "**Answer:** A. Yes" in md
    assert "**Learner:**" in md and "<summary>Reasoning</summary>" in md and "*(stopped by you)*" in md
    # The discussion as it reads: the regenerated reply, not the version it replaced.
    assert "Escherichia coli" in md and "E. coli" not in md
    assert md.rstrip().endswith(f"(Disclaimer version {DISCLAIMER_VERSION}.)")
    assert DISCLAIMER in md


def test_case_pack_import_detects_duplicates_and_respects_edits(stores):
    cases, _ = stores
    pack_cases = [Case(title=f"Case {i}", vignette=f"Vignette number {i}.", uid=f"pack-{i}") for i in range(3)]
    pack = export_pack(pack_cases, "Ward round pack", "ward-1")
    assert import_pack(cases, pack).added == 3
    # A second import: all duplicates, nothing added.
    report = import_pack(cases, pack)
    assert report.added == 0 and len(report.duplicates) == 3
    # The same content under another id (a colleague's re-export) is a duplicate too.
    copy = export_pack([replace(pack_cases[0], uid="other-id")], "Copy", "copy")
    assert import_pack(cases, copy).duplicates == ["Case 0"]
    # The learner edits case 1; a new release changes cases 1 and 2.
    mine = cases.get_by_uid("pack-1")
    mine.vignette = "My own notes on this case."
    cases.update(mine)
    v2 = export_pack([replace(c, vignette=c.vignette + " Updated.") for c in pack_cases], "Ward round pack", "ward-1", 2)
    report = import_pack(cases, v2)
    assert report.updated == 2  # cases 0 and 2 were untouched: refreshed
    assert cases.get_by_uid("pack-1").vignette == "My own notes on this case."  # the edit survives
    assert cases.get_by_uid("pack-2").vignette.endswith("Updated.")
    with pytest.raises(LibraryError, match="not a Gazal case pack"):
        import_pack(cases, {"cases": []})


def test_medqa_jsonl_reports_bad_lines_by_number_and_imports_the_rest(stores):
    cases, _ = stores
    lines = [
        json.dumps({"question": "A 23-year-old woman has fever and dysuria. Which organism is most likely?",
                    "options": {"A": "Proteus", "B": "E. coli", "C": "Klebsiella", "D": "Enterococcus"},
                    "answer_idx": "B", "answer": "E. coli", "meta_info": "step1"}),
        "{not json",
        json.dumps({"question": "What is 1+1?", "options": {"A": "1", "B": "2"}, "answer_idx": "E"}),
        "",
        json.dumps({"options": {"A": "x", "B": "y"}, "answer_idx": "A"}),
        json.dumps({"question": "A 70-year-old man has crushing chest pain. What is the next step?",
                    "options": ["ECG", "Discharge", "Antacid", "Chest radiograph only"], "answer_idx": "A"}),
    ]
    report = import_medqa_jsonl(cases, lines)
    assert report.added == 2
    assert [e.split(":")[0] for e in report.errors] == ["line 2", "line 3", "line 5"]
    assert "'E' is not one of the options A, B" in report.errors[1]
    uti = next(c for c in cases.list() if "dysuria" in c.vignette)
    assert uti.mcq_question == "Which organism is most likely?"
    assert uti.vignette == "A 23-year-old woman has fever and dysuria."
    assert uti.mcq_options[uti.mcq_answer] == "E. coli" and uti.tags == ["MedQA", "step1"]
    assert import_medqa_jsonl(cases, lines[:1]).duplicates  # importing again adds nothing


def test_starter_library_covers_the_eight_specialties():
    data = json.loads(resources.read_text("starter_cases.json"))
    items = data["cases"]
    assert len(items) >= 40
    counts = Counter(c["specialty"] for c in items)
    assert set(counts) == set(SPECIALTIES) and min(counts.values()) >= 5
    for c in items:
        case = Case.from_dict(c).validated()
        assert 4 <= len(case.mcq_options) <= 5 and case.mcq_answer is not None
        assert case.diagnosis and case.key_findings and case.management and case.teaching_points
        assert case.educational and "educational use only" in case.source.lower()
    assert len({c["uid"] for c in items}) == len(items)
    assert len({c["vignette"] for c in items}) == len(items)


def test_starter_library_loads_on_first_run_and_keeps_edits(stores):
    cases, _ = stores
    assert load_starter_library(cases).added >= 40
    first = cases.list(specialty="Cardiology")[0]
    first.title = "My renamed case"
    cases.update(first)
    report = load_starter_library(cases)  # the next start (or a new release)
    assert report.added == 0 and cases.get(first.id).title == "My renamed case"
    assert [h.title for h in cases.search("pericarditis")] or [h.title for h in cases.search("pericardial")]


def test_open_library_loads_the_starter_cases_once(tmp_path):
    from gazal_desktop.library import open_library

    lib, report = open_library(tmp_path / "data")
    assert report is not None and report.added >= 40
    added = report.added
    store = CaseStore(lib)
    store.delete(store.list()[0].id)
    lib.close()
    lib, report = open_library(tmp_path / "data")  # the next start: nothing re-added
    assert report is None and CaseStore(lib).count() == added - 1
    lib.close()


GOOD = {"title": "Fever and flank pain", "vignette": "A 30-year-old with fever and flank pain.",
        "mcq_question": "Most likely diagnosis?", "mcq_options": ["Pyelonephritis", "Cystitis"], "mcq_answer": 0}


@pytest.mark.parametrize("bad,said", [
    ({**GOOD, "mcq_answer": 1.0}, "'mcq_answer' must be the number of the correct option"),
    ({**GOOD, "mcq_answer": True}, "'mcq_answer' must be the number"),
    ({**GOOD, "tags": "cardiology"}, "'tags' must be a list of text (a single string was given)"),
    ({**GOOD, "tags": [1, 2]}, "'tags' must be a list of text"),
    ({**GOOD, "mcq_options": [1, 2]}, "'mcq_options' must be a list of text"),
    ({**GOOD, "vignette": ["a", "list"]}, "'vignette' must be text"),
    ({**GOOD, "difficulty": 3}, "'difficulty' must be text"),
    ({**GOOD, "educational": "yes"}, "'educational' must be true or false"),
    ({"vignette": "No title."}, "A case needs a title"),
    ("a string, not a case", "a case must be an object"),
    (None, "a case must be an object"),
    ([GOOD], "a case must be an object"),
])
def test_a_pack_with_a_malformed_case_names_it_and_keeps_the_good_ones(stores, bad, said):
    cases, _ = stores
    pack = {"format": export_pack([], "t", "p")["format"], "cases": [GOOD | {"title": "Good one"}, bad]}
    report = import_pack(cases, pack)
    assert report.added == 1 and len(report.errors) == 1
    assert report.errors[0].startswith("case 2") and said in report.errors[0], report.errors
    stored = cases.list()
    assert [c.title for c in stored] == ["Good one"] and isinstance(stored[0].mcq_answer, int)


def test_a_library_export_with_malformed_cases_or_discussions_names_them(stores):
    cases, chats = stores
    data = {"format": export_json(cases, chats)["format"], "cases": [
        {**GOOD, "title": "Float answer", "mcq_answer": 0.0},
        {**GOOD, "title": "Broken discussion", "conversations": [{"messages": [{"content": "no role"}]}]},
        {**GOOD, "title": "Fine", "conversations": [{"messages": [{"role": "user", "content": "Why?"}]}]},
        "not a case",
    ]}
    report = import_json(cases, chats, data)
    assert report.added == 1
    assert [e.split(":")[0] for e in report.errors] == ["case 1 (Float answer)", "case 2 (Broken discussion)", "case 4"]
    with pytest.raises(LibraryError, match="'cases' is not a list"):
        import_json(cases, chats, {"format": data["format"], "cases": {"a": 1}})


def test_medqa_lines_of_the_wrong_shape_are_named_not_raised(stores):
    cases, _ = stores
    lines = [
        json.dumps({"question": "A man has fever. What next?", "options": {"A": "X", "B": "Y"}, "answer_idx": ["A"]}),
        json.dumps({"question": "A man has fever. What next?", "options": {"A": ["X"], "B": "Y"}, "answer_idx": "A"}),
        json.dumps({"question": "A woman has cough. What next?", "options": {"A": "CXR", "B": "CT"}, "answer_idx": "A"}),
    ]
    report = import_medqa_jsonl(cases, lines)
    assert report.added == 1
    assert [e.split(":")[0] for e in report.errors] == ["line 1", "line 2"]


def _medqa_line(i: int) -> str:
    return json.dumps({"question": f"A {20 + i % 60}-year-old patient number {i} has a fever and a cough. "
                                   "What is the most likely diagnosis?",
                       "options": {"A": "Pneumonia", "B": "Asthma", "C": "Gout", "D": "Migraine"},
                       "answer_idx": "A", "meta_info": "step1"})


def test_a_big_import_commits_in_batches_while_the_app_keeps_saving(tmp_path):
    """The import runs on its own connection (as the app runs it) and commits IMPORT_BATCH
    cases at a time: the app's connection sees it grow, and its own writes all succeed."""
    import threading

    from gazal_desktop.library.exchange import IMPORT_BATCH

    lib = Library.open(tmp_path / "data")
    main_store = CaseStore(lib)
    second = lib.second_connection()
    n_lines = IMPORT_BATCH * 6 + 17
    seen_counts, progress = [], []
    result = {}

    def run():
        result["report"] = import_medqa_jsonl(CaseStore(second), (_medqa_line(i) for i in range(n_lines)),
                                              progress=progress.append)

    t = threading.Thread(target=run)
    t.start()
    saved = 0
    while t.is_alive():  # the app goes on saving (here: new cases) while the import runs
        main_store.add(Case(title=f"my case {saved}", vignette="A 30-year-old with chest pain."))
        saved += 1
        seen_counts.append(main_store.count())
    t.join()
    second.db.conn.close()
    report = result["report"]
    assert report.added == n_lines and not report.errors
    assert main_store.count() == n_lines + saved  # nothing the app saved was lost
    grown = {c - i for i, c in enumerate(seen_counts, 1)}  # imported cases seen at each save
    assert len([g for g in grown if 0 < g < n_lines]) >= 2  # seen part-way: committed in batches
    assert progress[-1] == n_lines and len(progress) >= 6
    again = import_medqa_jsonl(main_store, [_medqa_line(i) for i in range(3)] * 2)
    assert again.added == 0 and len(again.duplicates) == 6
    lib.close(backup=False)


def test_whatever_the_app_exports_imports_again_with_duplicates_detected(stores, tmp_path):
    from gazal_desktop.library.exchange import import_any

    cases, chats = stores
    load_starter_library(cases)
    c = cases.list()[0]
    conv = chats.start(Conversation(c.id, model_file="m.gguf"))
    chats.add_message(StoredMessage(conv.id, "user", "Which artery?"))
    exported = json.loads(json.dumps(export_json(cases, chats)))  # as written to the file
    pack = json.loads(json.dumps(export_pack(cases.list(), "My pack", "pack-1")))
    other = Library.open(tmp_path / "other")
    o_cases, o_chats = CaseStore(other), ChatStore(other)
    report = import_any(o_cases, o_chats, exported)
    assert report.added == cases.count() and not report.errors
    again = import_any(o_cases, o_chats, exported)
    assert again.added == 0 and len(again.duplicates) == cases.count()  # nothing twice
    copied = next(x for x in o_cases.list() if x.uid == c.uid)
    assert [m.content for m in o_chats.messages(o_chats.conversations(copied.id)[0].id)] == ["Which artery?"]
    third = Library.open(tmp_path / "third")
    t_cases = CaseStore(third)
    assert import_any(t_cases, ChatStore(third), pack).added == cases.count()
    assert import_any(t_cases, ChatStore(third), exported).added == 0  # same cases from the pack: duplicates
    with pytest.raises(LibraryError, match="neither a Gazal case pack nor"):
        import_any(t_cases, ChatStore(third), {"format": "something-else"})
    other.close(backup=False)
    third.close(backup=False)


def test_the_starter_questions_give_no_position_or_length_cue():
    pack = json.loads(resources.read_text("starter_cases.json"))
    items = [c for c in pack["cases"] if c.get("mcq_options")]
    keys = Counter(c["mcq_answer"] for c in items)
    assert max(keys.values()) <= 0.30 * len(items), keys  # no letter holds more than 30% of the keys
    longest = sum(1 for c in items if (lens := [len(o) for o in c["mcq_options"]])[c["mcq_answer"]] == max(lens)
                  and lens.count(max(lens)) == 1)
    assert longest <= 0.25 * len(items), longest  # the key is the uniquely longest option in at most 25%


def test_no_starter_distractor_carries_an_absolute_word_cue():
    import re

    pack = json.loads(resources.read_text("starter_cases.json"))
    cued = [(c["uid"], o) for c in pack["cases"] for i, o in enumerate(c["mcq_options"])
            if i != c["mcq_answer"] and re.search(r"\b(alone|only|before any|always|never)\b", o, re.I)]
    assert cued == []  # test-wise learners rule such options out without knowing the medicine


def test_every_starter_option_has_its_own_explanation_and_the_quiz_shows_it(tmp_path):
    from gazal_desktop.library import open_library
    from gazal_desktop.library.quiz import QuizFilter, QuizStore

    pack = json.loads(resources.read_text("starter_cases.json"))
    for c in pack["cases"]:
        why = c["mcq_explanations"]
        assert len(why) == len(c["mcq_options"]) and all(20 <= len(w) <= 320 for w in why), c["uid"]
        assert len(set(why)) == len(why), c["uid"]  # one explanation per option, not one pasted five times
    lib, _ = open_library(tmp_path / "data")
    try:
        store = QuizStore(lib)
        store.sync_authored()
        items = store.build(QuizFilter(count=40, pools=("new",), kinds=("mcq",)))
        assert len(items) == 40 and all(o.explanation for it in items for o in it.options)
        by_uid = {c["uid"]: c for c in pack["cases"]}
        for it in items:
            case = by_uid[it.uid.removeprefix("mcq:")]
            assert [(o.text, o.explanation) for o in it.options] == list(zip(case["mcq_options"],
                                                                             case["mcq_explanations"]))
    finally:
        lib.close()


def test_the_starter_questions_pass_the_checks_a_generated_question_must_pass():
    """Negative lead-ins, catch-alls, the key in the stem (in its words or others), a length cue,
    identifying data: the authored set is held to the rules the reviewer applies to the model."""
    from gazal_desktop.core.quiz import Option, QuizItem, validate

    pack = json.loads(resources.read_text("starter_cases.json"))
    for c in pack["cases"]:
        item = QuizItem(stem=c["vignette"], question=c["mcq_question"], answer=c["mcq_answer"],
                        options=[Option(o, w) for o, w in zip(c["mcq_options"], c["mcq_explanations"])],
                        teaching_point=c["teaching_points"], source="generated")
        assert validate(item) == [], c["uid"]


def test_medqa_lines_with_option_explanations_keep_them(stores):
    cases, _ = stores
    line = {"question": "A 30-year-old has fever and a stiff neck. Which is the most likely organism?",
            "options": {"A": "Neisseria meningitidis", "B": "Listeria", "C": "E. coli", "D": "GBS"},
            "answer_idx": "A", "explanations": {"A": "Young adult, petechiae.", "C": "Neonates.", "D": "Neonates."},
            "explanation": "Age guides empirical cover."}
    report = import_medqa_jsonl(cases, [json.dumps(line), json.dumps({**line, "question": line["question"] + " Now?",
                                                                       "explanations": "not a mapping"})])
    assert report.added == 2
    with_why, without = sorted(cases.list(), key=lambda c: len(c.vignette))
    assert with_why.mcq_explanations == ["Young adult, petechiae.", "", "Neonates.", "Neonates."]
    assert with_why.teaching_points == "Age guides empirical cover."
    assert without.mcq_explanations == []
    md = export_markdown(with_why)
    assert "- **A.** Young adult, petechiae." in md and "- **B.**" not in md


def test_a_case_pack_and_json_export_carry_the_patient_script(stores, tmp_path):
    cases, chats = stores
    pack = json.loads(resources.read_text("starter_cases.json"))
    scripted = Case.from_dict(next(c for c in pack["cases"] if c["uid"] == "starter-016"))
    cases.add(scripted)
    out = export_pack(cases.list(), "Mine", "mine")
    other = Library.open(tmp_path / "other")
    try:
        report = import_pack(CaseStore(other), json.loads(json.dumps(out)))
        assert report.added == 1
        (back,) = CaseStore(other).list()
        assert back.patient == scripted.patient and back.patient["opening"]
        exported = export_json(CaseStore(other), ChatStore(other))
        assert json.loads(json.dumps(exported))["cases"][0]["patient"] == scripted.patient
    finally:
        other.close(backup=False)


def test_medmcqa_and_mmlu_pro_lines_import_like_medqa(stores):
    """One reader for the public sets (core.mcq_formats): the library and gazal-eval agree."""
    cases, _ = stores
    lines = [json.dumps({"question": "Drug of choice for absence seizures in a child?", "opa": "Phenytoin",
                         "opb": "Ethosuximide", "opc": "Carbamazepine", "opd": "Phenobarbital", "cop": 1,
                         "subject_name": "Pharmacology"}),
             json.dumps({"question": "Which vitamin deficiency causes scurvy?", "options": ["A", "B12", "C", "D"],
                         "answer": "C", "answer_index": 2, "category": "health"})]
    report = import_medqa_jsonl(cases, lines)
    assert report.added == 2 and not report.errors
    by_tag = {t: c for c in cases.list() for t in c.tags}
    assert by_tag["MedMCQA"].mcq_options[by_tag["MedMCQA"].mcq_answer] == "Ethosuximide"
    assert "Pharmacology" in by_tag["MedMCQA"].tags
    assert by_tag["MMLU-Pro"].diagnosis == "C" and "health" in by_tag["MMLU-Pro"].tags
