"""Quiz items, FSRS scheduling, review log and progress on a real SQLite library."""

from __future__ import annotations

import csv
import json
import datetime as dt
import io
import random
from dataclasses import replace

import pytest

from gazal_desktop.core.quiz import AGAIN, GOOD, item_from_generated
from gazal_desktop.core.quiz_session import QuizSession
from gazal_desktop.core.scheduling import QuizScheduler
from gazal_desktop.library import open_library
from gazal_desktop.library.cases import Case, CaseStore
from gazal_desktop.library.db import LibraryError
from gazal_desktop.library.quiz import QuizFilter, QuizStore

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(tmp_path):
    lib, _ = open_library(tmp_path / "data")
    qs = QuizStore(lib, QuizScheduler(fuzz=False))
    qs.sync_authored()
    yield qs
    lib.close()


def answer(store: QuizStore, item, correct: bool, when: dt.datetime, confidence="medium", mode="tutor"):
    """Answer one item the way the quiz screen does: a session's transitions, then the
    database records the snapshot and the session takes the new schedule."""
    s = QuizSession([item], mode, started_at=when)
    store.start_session(s)
    if item.kind == "commit":
        s.reveal(when)
        step = s.grade(GOOD if correct else AGAIN, when)
    else:
        s.choose(item.answer if correct else (item.answer + 1) % len(item.options), when, confidence)
        step = s.submit(when) if mode == "tutor" else s.end(when)
    (rec,) = step.record
    s.recorded(store.record(rec))
    return s.items[0]


def test_the_starter_library_gives_a_deck_without_any_model(store):
    counts = store.counts(T0)
    assert counts["new"] == 80 and counts["due"] == 0  # 40 questions + 40 commit-first
    items = store.build(QuizFilter(count=10, pools=("new",), kinds=("mcq",)), T0)
    assert len(items) == 10
    assert all(i.kind == "mcq" and len(i.options) == 5 and i.answer is not None and i.title for i in items)
    commit = store.build(QuizFilter(count=3, pools=("new",), kinds=("commit",)), T0)
    assert all(i.answer_key["diagnosis"] and i.answer_key["management"] for i in commit)


def test_intervals_grow_with_good_answers_and_collapse_after_a_lapse(store):
    item = store.build(QuizFilter(count=1, pools=("new",)), T0)[0]
    now, intervals = T0, []
    for _ in range(5):
        item = answer(store, item, True, now)
        due = dt.datetime.fromisoformat(item.due)
        intervals.append(due - now)
        now = due
    assert intervals[0] < dt.timedelta(hours=1)  # a learning step first
    days = [i.days for i in intervals[1:]]
    assert days == sorted(days) and days[-1] >= 4 * days[0] and days[-1] >= 30, intervals
    before = intervals[-1]
    item = answer(store, item, False, now)  # a lapse
    lapse = dt.datetime.fromisoformat(item.due) - now
    assert lapse < dt.timedelta(hours=1)
    now += lapse
    item = answer(store, item, True, now)
    relearnt = dt.datetime.fromisoformat(item.due) - now
    assert relearnt < before / 3
    log = store.reviews(item.id)
    assert [r["rating"] for r in log] == [GOOD] * 5 + [AGAIN, GOOD]
    assert [r["correct"] for r in log] == [1] * 5 + [0, 1]


def test_confidence_changes_the_next_interval(store):
    a, b, c = store.build(QuizFilter(count=3, pools=("new",)), T0)
    for item, conf in ((a, "low"), (b, "medium"), (c, "high")):
        item = answer(store, item, True, T0, confidence=conf)
        item = answer(store, item, True, dt.datetime.fromisoformat(item.due), confidence=conf)
    due = [dt.datetime.fromisoformat(store.get(x.id).due) for x in (a, b, c)]
    assert due[0] < due[1] < due[2]


def test_due_today_and_the_queue_put_due_items_first(store):
    items = store.build(QuizFilter(count=3, pools=("new",)), T0)
    for it in items:
        answer(store, it, True, T0)  # due again in ten minutes
    assert store.counts(T0)["due"] == 3
    queue = store.build(QuizFilter(count=5, pools=("due", "new")), T0 + dt.timedelta(hours=1), random.Random(1))
    assert {q.id for q in queue[:3]} == {i.id for i in items}
    assert all(q.card is None for q in queue[3:])


def test_incorrect_and_flagged_pools(store):
    a, b, c = store.build(QuizFilter(count=3, pools=("new",)), T0)
    answer(store, a, False, T0)
    answer(store, b, True, T0)
    store.set_flag(c.id, True)
    store.set_note(c.id, "revisit the ECG")
    wrong = store.build(QuizFilter(count=10, pools=("incorrect",)), T0)
    assert [i.id for i in wrong] == [a.id]
    flagged = store.build(QuizFilter(count=10, pools=("flagged",)), T0)
    assert [(i.id, i.flagged, i.note) for i in flagged] == [(c.id, True, "revisit the ECG")]
    with pytest.raises(LibraryError):
        store.build(QuizFilter(pools=()), T0)


def test_specialty_and_tag_filters(store):
    cardio = store.build(QuizFilter(count=50, specialties=["Cardiology"], pools=("new",), kinds=("mcq", "commit")), T0)
    assert len(cardio) == 10 and {i.specialty for i in cardio} == {"Cardiology"}
    tagged = store.build(QuizFilter(count=50, tags=["DKA"], pools=("new",)), T0)
    assert tagged and all("DKA" in CaseStore(store.lib).get(i.case_id).tags for i in tagged)
    assert "Cardiology" in store.specialties() and "DKA" in store.tags()


def test_editing_a_case_updates_its_question_and_keeps_its_schedule(store):
    cases = CaseStore(store.lib)
    item = store.build(QuizFilter(count=1, pools=("new",)), T0)[0]
    item = answer(store, item, True, T0)
    case = cases.get(item.case_id)
    cases.update(replace(case, mcq_question="Which is the single best first treatment?"))
    store.sync_authored()
    again = store.get(item.id)
    assert again.question == "Which is the single best first treatment?" and again.card == item.card
    cases.delete(case.id)
    assert item.id not in {i.id for i in store.build(QuizFilter(count=100, pools=("due", "new")), T0)}
    assert store.counts(T0)["new"] == 78


def test_a_new_case_with_a_key_joins_the_deck(store):
    CaseStore(store.lib).add(Case(title="t", vignette="v" * 50, specialty="Cardiology", mcq_question="Q?",
                                  mcq_options=["a", "b", "c", "d"], mcq_answer=0))
    assert store.sync_authored() == 1
    assert store.counts(T0)["new"] == 81


def test_generated_items_wait_for_approval(store):
    case = CaseStore(store.lib).list()[0]
    data = {"stem": "A 30-year-old woman has fever, dysuria and flank pain with costovertebral angle tenderness.",
            "question": "Which is the most likely diagnosis?", "teaching_point": "Flank pain and fever mean the kidney.",
            "options": [{"text": t, "correct": t == "Acute pyelonephritis", "explanation": "why"} for t in
                        ("Acute pyelonephritis", "Cystitis", "Renal colic", "Appendicitis")]}
    item, problems = item_from_generated(data)
    assert problems == []
    draft = store.add_generated(item, case.id)
    assert draft.status == "draft" and store.counts(T0)["drafts"] == 1
    assert draft.id not in {i.id for i in store.build(QuizFilter(count=200, pools=("new",)), T0)}
    bad = replace(draft, options=draft.options[:3])
    with pytest.raises(LibraryError, match="4 or 5 options"):
        store.approve(bad)
    edited = replace(draft, question="What is the most likely diagnosis?")
    approved = store.approve(edited)
    assert approved.status == "approved"
    assert store.get(draft.id).question == "What is the most likely diagnosis?"
    assert draft.id in {i.id for i in store.build(QuizFilter(count=200, pools=("new",)), T0)}
    rejected = store.add_generated(replace(item, options=item.options[:2], uid="x"), case.id)
    assert rejected.status == "rejected" and "4 or 5 options" in " ".join(rejected.problems)
    store.discard(rejected.id)
    assert all(d.id != rejected.id for d in store.drafts())


def test_progress_by_specialty_forecast_and_streak(store):
    items = store.build(QuizFilter(count=6, pools=("new",)), T0, random.Random(3))
    days = [T0 - dt.timedelta(days=2), T0 - dt.timedelta(days=1), T0]
    for n, it in enumerate(items):
        answer(store, it, n % 3 != 0, days[n % 3])
    p = store.progress(T0)
    assert p.total_reviews == 6 and p.reviewed_today == 2 and p.streak == 3
    assert sum(r["answered"] for r in p.by_specialty) == 6
    assert sum(r["correct"] for r in p.by_specialty) == 4
    assert sum(r["answered"] for r in p.over_time) == 6
    assert len(p.forecast) == 14 and sum(n for _, n in p.forecast) == 6
    # a gap breaks the streak
    assert store.progress(T0 + dt.timedelta(days=2)).streak == 0


def test_results_export_as_csv_with_the_disclaimer(store, tmp_path):
    it = store.build(QuizFilter(count=1, pools=("new",)), T0)[0]
    answer(store, it, True, T0, confidence="high")
    out = store.export_csv(tmp_path / "results.csv")
    text = out.read_text()
    assert text.startswith("reviewed_at_utc,case,")  # a plain header row: imports into a spreadsheet as is
    assert "NOT a medical device" in text.splitlines()[-1]  # the disclaimer, as the final line
    rows = list(csv.DictReader(io.StringIO(text)))[:-1]
    assert rows[0]["case"] == it.title and rows[0]["correct"] == "yes" and rows[0]["rating"] == "Easy"
    assert rows[0]["confidence"] == "high" and rows[0]["chosen"] == "ABCDE"[it.answer]


def test_a_library_from_the_previous_release_gains_the_deck_and_keeps_its_cases(tmp_path, monkeypatch):
    from gazal_desktop.library import db as db_mod

    old = [m for m in db_mod.MIGRATIONS if m[0] < "0003"]
    monkeypatch.setattr(db_mod, "MIGRATIONS", old)
    lib = db_mod.Library.open(tmp_path / "data")
    with lib.transaction():  # as that release wrote it (today's CaseStore knows newer columns)
        lib.db.conn.execute("INSERT INTO cases (uid, title, vignette, specialty, mcq_question, mcq_options, mcq_answer, "
                         "created_at, updated_at) VALUES ('mine', 'Mine', ?, 'Cardiology', 'Q?', ?, 2, ?, ?)",
                         ("v" * 60, json.dumps(["a", "b", "c", "d"]), T0.isoformat(), T0.isoformat()))
    assert "quiz_items" not in lib.db.table_names()
    lib.close(backup=False)
    monkeypatch.undo()
    lib, _ = open_library(tmp_path / "data")
    try:
        applied = [r[0] for r in lib.db.execute("SELECT name FROM _migrations ORDER BY name").fetchall()]
        assert "0003_quiz" in applied and applied[-1] == db_mod.MIGRATIONS[-1][0]
        qs = QuizStore(lib)
        titles = {i.title for i in qs.build(QuizFilter(count=200, pools=("new",)), T0)}
        assert "Mine" in titles and qs.counts(T0)["new"] == 81
    finally:
        lib.close()


def test_a_shuffled_answer_is_logged_by_stored_option_with_the_order_shown(store, tmp_path):
    import random

    from gazal_desktop.core.quiz import shuffled

    it = store.build(QuizFilter(count=1, pools=("new",)), T0)[0]
    shown = next(s for seed in range(50) if (s := shuffled(it, random.Random(seed))).answer != it.answer)
    wrong_shown = (shown.answer + 1) % len(shown.options)
    s = QuizSession([shown], "tutor", started_at=T0)
    store.start_session(s)
    s.choose(wrong_shown, T0)
    store.record(s.submit(T0).record[0])
    (review,) = store.reviews()
    assert review["chosen"] == shown.shown_order[wrong_shown]  # the stored option, whatever its position
    assert json.loads(review["option_order"]) == shown.shown_order and review["correct"] == 0
    rows = list(csv.DictReader(io.StringIO(store.results_csv())))[:-1]
    assert rows[0]["chosen"] == "ABCDE"[wrong_shown] and rows[0]["answer"] == "ABCDE"[shown.answer]  # as seen


def test_a_suspended_block_is_listed_resumed_and_refused_once_its_question_is_gone(store):
    import random

    from gazal_desktop.core.quiz import shuffled

    items = [shuffled(it, random.Random(1)) for it in store.build(QuizFilter(count=3, pools=("new",)), T0)]
    s = QuizSession(items, "tutor", started_at=T0)
    store.start_session(s)
    s.choose(items[0].answer, T0)
    s.recorded(store.record(s.submit(T0).record[0]))
    s.go(1)
    store.suspend(s.id, s.to_state(T0 + dt.timedelta(minutes=5)))
    (row,) = store.suspended()
    assert (row["id"], row["mode"], row["n_items"], row["answered"]) == (s.id, "tutor", 3, 1)
    r = store.resume(s.id, T0 + dt.timedelta(days=2))
    assert [it.shown_order for it in r.items] == [it.shown_order for it in items] and r.index == 1
    assert r.items[0].card is not None  # read again: the schedule the recorded answer gave it
    assert r.score() == (1, 1)
    store.lib.db.conn.execute("DELETE FROM quiz_items WHERE id = ?", (items[2].id,))
    with pytest.raises(LibraryError, match="can no longer be resumed"):
        store.resume(s.id)
    store.discard_suspended(s.id)
    assert store.suspended() == []
