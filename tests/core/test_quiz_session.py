"""A quiz block's state machine, without Qt: what Enter does in each state, when answers are
recorded (as snapshots), undo, the end of a block, suspend and resume."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from gazal_desktop.core.quiz import GOOD, Option, QuizItem, shuffled
from gazal_desktop.core.quiz_session import QuizSession, Recorded, State, TransitionError

T0 = dt.datetime(2026, 11, 27, 9, tzinfo=dt.timezone.utc)
STEM = ("A 64-year-old man has crushing chest pain for 40 minutes with sweating. ECG shows ST elevation in "
        "leads II, III and aVF.")


def mcq(i: int) -> QuizItem:
    return QuizItem(STEM, "Which artery?", [Option(t) for t in ("LAD", "RCA", "LCx", "Left main", "Ramus")],
                    answer=1, id=i + 1, specialty="Cardiology")


def commit(i: int) -> QuizItem:
    return QuizItem(STEM, kind="commit", id=100 + i, specialty="Cardiology")


def recorded(s: QuizSession, rec, review_id: int = 1) -> None:
    """What the database would send back for a snapshot."""
    s.recorded(Recorded(rec.index, review_id, {"state": 2}, "2026-11-28T09:00:00+00:00", rec.card, rec.due))


def test_tutor_mcq_enter_submits_then_moves_then_ends():
    s = QuizSession([mcq(0), mcq(1)], "tutor", started_at=T0)
    assert s.state is State.ANSWERING
    step = s.enter(T0)
    assert step.message.startswith("Choose an answer first") and not step.record and s.state is State.ANSWERING
    assert s.choose(3, T0, "low") and s.state is State.ANSWERING
    step = s.enter(T0)
    assert s.state is State.GRADED and step.state is State.GRADED
    (rec,) = step.record
    assert (rec.item_id, rec.chosen, rec.correct, rec.rating, rec.confidence) == (1, 3, False, 1, "low")
    assert not s.choose(1, T0)  # locked once submitted
    step = s.enter(T0)
    assert step.moved and s.index == 1 and s.state is State.ANSWERING
    s.choose(1, T0)
    assert s.enter(T0).record[0].correct
    step = s.enter(T0)  # Enter on the last graded question ends the block
    assert step.state is State.FINISHED and step.record == []  # tutor answers were recorded as they came
    assert s.score() == (1, 2)


def test_commit_first_reveal_then_grade_is_recorded_in_tutor_mode():
    s = QuizSession([commit(0)], "tutor", started_at=T0)
    s.write("Diagnosis: inferior STEMI\nNext step: PCI", T0)
    assert s.enter(T0).state is State.REVEALED
    assert s.enter(T0).message.startswith("Grade yourself first")
    step = s.grade(GOOD, T0)
    assert s.state is State.GRADED and step.record[0].rating == GOOD and step.record[0].text.startswith("Diagnosis")
    s.write("changed after seeing the key", T0)
    assert s.responses[0].text.startswith("Diagnosis")  # what was committed stays


def test_grade_outside_the_revealed_state_does_nothing_and_bad_grades_are_refused():
    s = QuizSession([commit(0)], "tutor", started_at=T0)
    assert s.grade(GOOD, T0).record == [] and s.state is State.ANSWERING  # not revealed yet
    s.reveal(T0)
    with pytest.raises(TransitionError):
        s.grade(7, T0)
    assert s.state is State.REVEALED


def test_timed_block_asks_before_ending_with_unanswered_and_records_at_the_end():
    s = QuizSession([mcq(0), mcq(1), mcq(2)], "timed", started_at=T0)
    s.choose(0, T0)
    assert s.enter(T0).moved and s.index == 1
    s.choose(1, T0)
    s.go(-1)
    s.choose(1, T0)  # changed before the end: allowed in timed mode
    s.go(2)
    step = s.enter(T0)  # last question, unanswered: ask, do not end
    assert step.confirm_unanswered == [2] and s.finished_at is None
    step = s.end(T0)
    assert step.state is State.FINISHED and [r.index for r in step.record] == [0, 1]
    assert all(r.correct for r in step.record) and s.unanswered() == [2]
    assert not s.choose(0, T0) and s.state_of(0) is State.FINISHED


def test_a_snapshot_is_a_copy_and_maps_the_shown_option_back():
    shown = next(x for seed in range(50) if (x := shuffled(mcq(0), random.Random(seed))).answer != 1)
    shown.card = {"due": "x", "state": 1}
    s = QuizSession([shown], "tutor", started_at=T0)
    s.choose(shown.answer, T0)
    (rec,) = s.submit(T0).record
    assert rec.chosen == 1 and rec.option_order == shown.shown_order  # the stored option, as the log keeps it
    shown.card["state"] = 99  # the live session moves on; the snapshot does not
    assert rec.card == {"due": "x", "state": 1}


def test_undo_reopens_the_last_recorded_answer_with_the_schedule_before():
    item = mcq(0)
    item.card, item.due = None, None
    s = QuizSession([item, mcq(1)], "tutor", started_at=T0)
    s.choose(0, T0)
    recorded(s, s.enter(T0).record[0], review_id=41)
    assert item.card == {"state": 2}
    s.enter(T0)  # on to question 2
    undo = s.take_back()
    assert (undo.review_id, undo.item_id, undo.card, undo.due) == (41, 1, None, None)
    assert s.index == 0 and s.state is State.ANSWERING and item.card is None and s.responses[0].chosen is None
    assert s.take_back() is None  # nothing older


def test_time_is_banked_per_question_until_the_answer_locks():
    s = QuizSession([mcq(0), mcq(1)], "tutor", started_at=T0)
    s.bank(100.0)
    s.choose(1, T0)
    s.submit(T0, clock=112.5)
    s.bank(200.0)  # locked: the time looking at the explanation does not count
    assert s.responses[0].seconds == pytest.approx(12.5)
    s.go(1, clock=205.0)
    s.bank(209.0)
    assert s.responses[1].seconds == pytest.approx(4.0)


def test_suspend_and_resume_keep_answers_order_strikes_and_the_clock():
    items = [shuffled(mcq(i), random.Random(i)) for i in range(3)]
    s = QuizSession(items, "timed", started_at=T0, id=7)
    s.choose(2, T0)
    s.toggle_strike(4)
    s.go(1)
    s.choose(0, T0)
    state = json.loads(json.dumps(s.to_state(T0 + dt.timedelta(seconds=100))))  # as stored
    fresh = [mcq(i) for i in range(3)][::-1]  # read again from the library, in any order
    later = T0 + dt.timedelta(days=1)
    r = QuizSession.from_state(state, fresh, later, 7)
    assert [it.id for it in r.items] == [1, 2, 3] and [it.shown_order for it in r.items] == [it.shown_order
                                                                                           for it in items]
    assert r.index == 1 and r.responses[0].chosen == 2 and r.responses[1].chosen == 0 and r.struck == {0: {4}}
    assert r.remaining_s(later) == 270 - 100  # the clock goes on from where it stopped
    assert r.score() == s.score() and r.id == 7
    with pytest.raises(TransitionError):
        QuizSession.from_state(state, fresh[:2], later, 7)  # a question deleted since
