"""Quiz items: validation of generated questions, free-text answers, ratings, a session's state."""

from __future__ import annotations

import datetime as dt

import pytest

from gazal_desktop.core.quiz_session import QuizSession
from gazal_desktop.core.quiz import (AGAIN, EASY, GOOD, HARD, QuizItem, Option, extract_choice,
                                     item_from_generated, rating_for)

STEM = ("A 64-year-old man has crushing chest pain for 40 minutes with sweating. ECG shows ST elevation in "
        "leads II, III and aVF with reciprocal depression in I and aVL.")


def good(**change) -> dict:
    item = {
        "stem": STEM,
        "question": "Which coronary artery is most likely occluded?",
        "options": [
            {"text": "Right coronary artery", "correct": True, "explanation": "Supplies the inferior wall in most people."},
            {"text": "Left anterior descending artery", "correct": False, "explanation": "Anterior leads V1-V4."},
            {"text": "Left circumflex artery", "correct": False, "explanation": "Lateral leads I, aVL, V5-V6."},
            {"text": "Left main coronary artery", "correct": False, "explanation": "Diffuse depression, aVR elevation."},
        ],
        "teaching_point": "Inferior STEMI usually means a right coronary occlusion.",
    }
    item.update(change)
    return item


def opts(*specs):
    return [{"text": t, "correct": c, "explanation": "because"} for t, c in specs]


CASES = [
    ("a fair item", good(), None),
    ("five options", good(options=good()["options"] + [{"text": "Posterior descending artery", "correct": False,
                                                          "explanation": "A branch, not the usual culprit."}]), None),
    ("no correct option", good(options=opts(("RCA", False), ("LAD", False), ("LCx", False), ("LM", False))),
     "Exactly one option must be marked correct; none is."),
    ("two correct options", good(options=opts(("RCA", True), ("LAD", True), ("LCx", False), ("LM", False))),
     "Exactly one option must be marked correct; 2 are."),
    ("repeated options", good(options=opts(("RCA", True), ("LAD", False), ("L.A.D", False), ("lad ", False))),
     "Options repeat"),
    ("three options", good(options=opts(("RCA", True), ("LAD", False), ("LCx", False))), "needs 4 or 5 options"),
    ("answer in the lead-in", good(question="Is the right coronary artery the occluded vessel here?"),
     "gives the answer away"),
    ("answer phrase in the vignette", good(stem=STEM + " Angiography shows a thrombus in the right coronary artery."),
     "gives the answer away"),
    ("stem names the answer", good(stem=STEM + " The correct answer is obvious."), "talks about the answer"),
    ("all of the above", good(options=opts(("RCA", True), ("LAD", False), ("LCx", False), ("All of the above", False))),
     "All/none of the above"),
    ("missing explanation", good(options=[dict(o, explanation="") if i == 2 else o
                                          for i, o in enumerate(good()["options"])]), "needs a short explanation"),
    ("no stem", good(stem="Chest pain."), "too short"),
    ("no teaching point", good(teaching_point=""), "teaching point is missing"),
]


@pytest.mark.parametrize("label, data, problem", CASES, ids=[c[0] for c in CASES])
def test_generated_items_are_checked_and_rejections_say_why(label, data, problem):
    item, problems = item_from_generated(data)
    assert item is not None
    if problem is None:
        assert problems == []
        assert item.correct_text in {"Right coronary artery"}
        assert item.status == "draft" and item.source == "generated"
    else:
        assert any(problem in p for p in problems), problems


def test_a_single_drug_named_in_the_vignette_is_not_a_giveaway():
    data = good(stem=STEM + " He takes aspirin daily.", question="Which drug most likely caused his tinnitus?",
                options=opts(("Aspirin", True), ("Metoprolol", False), ("Atorvastatin", False), ("Lisinopril", False)))
    assert item_from_generated(data)[1] == []


def test_output_that_is_not_an_item_is_refused():
    assert item_from_generated(["a", "list"])[0] is None
    assert item_from_generated({"stem": STEM})[1] == ["The question has no list of options."]


OPTIONS = ["Pulmonary embolism", "Pneumonia", "Aortic dissection", "Pericarditis", "Pneumothorax"]


@pytest.mark.parametrize("text, expected", [
    ("the answer is (C)", 2), ("The answer is C.", 2), ("C", 2), ("c", 2), ("(d)", 3), ("b)", 1),
    ("Answer: e", 4), ("option 2", 1), ("3", 2), ("B. Pneumonia", 1), ("pericarditis", 3),
    ("I would go with aortic dissection", 2), ("I think the answer is a pulmonary embolism", 0),
    ("The answer is probably E", 4), ("dissection", 2),
    ("A or B", None), ("pneumo", None), ("6", None), ("F", None), ("", None), ("no idea", None),
])
def test_free_text_answers_are_understood_or_left_unclear(text, expected):
    assert extract_choice(text, OPTIONS) == expected


def test_rating_comes_from_correctness_and_confidence():
    assert rating_for(False, "high") == AGAIN
    assert rating_for(False, "low") == AGAIN
    assert [rating_for(True, c) for c in ("low", "medium", "high")] == [HARD, GOOD, EASY]


def _items(n=3):
    return [QuizItem(stem=STEM, question="Which?", options=[Option(x) for x in "WXYZ"], answer=1, id=i + 1)
            for i in range(n)]


def test_a_timed_session_has_90_seconds_a_question_and_counts_only_answers():
    t0 = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
    s = QuizSession(_items(3), "timed", started_at=t0)
    assert s.time_limit_s == 270
    assert s.remaining_s(t0 + dt.timedelta(seconds=100)) == 170
    assert s.remaining_s(t0 + dt.timedelta(hours=1)) == 0
    s.choose(1, t0)
    s.index = 1
    s.choose(0, t0)
    s.choose(1, t0)  # changed before the end: allowed in timed mode
    assert s.unanswered() == [2]
    s.end(t0)
    assert s.score() == (2, 2)


def test_tutor_mode_locks_an_answer_once_submitted():
    t0 = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
    s = QuizSession(_items(1), "tutor", started_at=t0)
    assert s.time_limit_s is None
    s.choose(0, t0)
    s.submit(t0)
    s.choose(1, t0)
    assert s.response().chosen == 0 and s.score() == (0, 1)
    assert s.toggle_strike(2) == {2} and s.toggle_strike(2) == set()


def test_options_are_shuffled_per_presentation_and_map_back():
    import random

    from gazal_desktop.core.quiz import shuffled, stored_index

    item = QuizItem("A stem.", "Which?", [Option(t) for t in "VWXYZ"], answer=1)
    positions = set()
    for seed in range(40):
        shown = shuffled(item, random.Random(seed))
        assert sorted(o.text for o in shown.options) == list("VWXYZ")
        assert shown.options[shown.answer].text == "W"  # the key moves with its text
        assert stored_index(shown, shown.answer) == item.answer
        assert all(stored_index(shown, i) == "VWXYZ".index(o.text) for i, o in enumerate(shown.options))
        positions.add(shown.answer)
    assert positions == {0, 1, 2, 3, 4}  # answering "B" every time no longer pays
    assert item.options[1].text == "W" and item.shown_order is None  # the stored item is untouched


PERI = ("A 27-year-old man has two days of sharp chest pain that is worse lying flat and eased by sitting forward. "
        "A friction rub is heard. The ECG shows diffuse ST elevation with PR depression, consistent with acute viral "
        "pericarditis.")


@pytest.mark.parametrize("label, data, problem", [
    ("the key in other words", good(stem=PERI, question="What is the most likely diagnosis?", options=opts(
        ("Acute pericarditis", True), ("Inferior STEMI", False), ("Aortic dissection", False), ("Pulmonary embolism", False))),
     "names \"Acute pericarditis\" in other words"),
    ("none of these", good(options=opts(("RCA", True), ("LAD", False), ("LCx", False), ("None of these", False))),
     "All/none of the above"),
    ("both A and B", good(options=opts(("RCA", True), ("LAD", False), ("LCx", False), ("Both A and B", False))),
     "All/none of the above"),
    ("an EXCEPT lead-in", good(question="Each of these arteries could be occluded EXCEPT which?"), "negative"),
    ("a key twice as long", good(options=opts(
        ("The right coronary artery, which supplies the inferior wall", True), ("LAD", False), ("LCx", False),
        ("Left main", False))), "much longer"),
    ("a name and a date in the stem", good(stem=STEM + " Mr. John Carter was seen on 03/14/2025 at the clinic."),
     "identifying data"),
])
def test_item_writing_checks_refuse_what_board_item_writers_refuse(label, data, problem):
    _item, problems = item_from_generated(data)
    assert any(problem in p for p in problems), problems


def test_a_dose_or_route_in_an_option_asks_the_reviewer_to_check_it():
    from gazal_desktop.core.quiz import dose_warnings

    data = good(stem="A 30-year-old has hives, wheeze and lip swelling after a wasp sting. Blood pressure is "
                     "128/80 mm Hg and he is talking in full sentences.",
                question="What is the most appropriate first treatment?",
                options=opts(("Epinephrine 1 mg IV push", True), ("Oral cetirizine", False),
                             ("Nebulized salbutamol", False), ("Observation", False)))
    item, _problems = item_from_generated(data)
    (warning,) = dose_warnings(item)
    assert "Check the dose and route in A" in warning and "1 mg IV push" in warning
    assert dose_warnings(item_from_generated(good())[0]) == []
