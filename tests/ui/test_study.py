"""The Study tab: due count, tutor and timed sessions, commit first, drafts, progress."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import Qt

from gazal_desktop.core.quiz import GOOD, LETTERS
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.library.chats import ChatStore, Conversation, StoredMessage
from gazal_desktop.library.quiz import QuizFilter


@pytest.fixture
def window(window, qtbot):
    """The main window (tests/ui/conftest.py) with its Study tab open."""
    window.tabs.setCurrentWidget(window.study_view)
    qtbot.waitUntil(lambda: "new" in window.study_view.home.detail.text(), timeout=5000)
    return window


def start(window, qtbot, mode="tutor", count=3, kinds=("mcq",), pools=("new",)):
    home = window.study_view.home
    home.count.setValue(count)
    for p, cb in home.pools.items():
        cb.setChecked(p in pools)
    home.kind_mcq.setChecked("mcq" in kinds)
    home.kind_commit.setChecked("commit" in kinds)
    (home.timed if mode == "timed" else home.tutor).setChecked(True)
    home.start_button.click()
    player = window.study_view.player
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is player and player.session is not None, timeout=5000)
    return player


def key(qtbot, player, k, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(player, k, mods)


def reviews(window):
    window.runner.wait()
    return window.quiz.reviews()


def test_a_first_launch_can_study_with_no_model(window):
    home = window.study_view.home
    assert window.backend is None
    assert home.due_label.text() == "Nothing due today"
    assert "80 new" in home.detail.text()


def test_tutor_session_with_keyboard_strike_flag_and_free_text(window, qtbot):
    player = start(window, qtbot)
    s = player.session
    first = s.items[0]
    assert player.stem.text() == first.stem and len(player.option_buttons) == 5
    assert first.title not in player.header.text()  # no title cue while answering
    wrong = 0 if first.answer != 0 else 1  # Ctrl+1 / Ctrl+2 strike options; they must not switch tabs
    key(qtbot, player, Qt.Key.Key_1 + wrong, Qt.KeyboardModifier.ControlModifier)  # strike a distractor
    assert window.tabs.currentWidget() is window.study_view
    assert player.option_buttons[wrong].struck and "line-through" in player.option_buttons[wrong].styleSheet()
    key(qtbot, player, Qt.Key.Key_F)
    assert player.flag_button.isChecked()
    player.confidence_buttons["high"].setChecked(True)
    key(qtbot, player, Qt.Key.Key_1 + first.answer)
    assert player.option_buttons[first.answer].isChecked()
    key(qtbot, player, Qt.Key.Key_Return)
    assert player.explanation.isVisible() and "Correct." in player.explanation.toPlainText()
    assert player.header.text().endswith(first.title)  # shown once the answer is revealed
    assert first.correct_text in player.explanation.toPlainText()
    assert all(o.explanation and o.explanation in player.explanation.toPlainText() for o in first.options)
    qtbot.waitUntil(lambda: player.status.text().startswith("Next review in"), timeout=5000)
    assert [(r["correct"], r["rating"], r["confidence"]) for r in reviews(window)] == [(1, 4, "high")]
    assert reviews(window)[0]["duration_ms"] > 0  # how long the question took is in the review log
    assert window.quiz.get(first.id).flagged
    # Question 2, answered in words: "the answer is (X)" with a wrong letter
    key(qtbot, player, Qt.Key.Key_Return)
    second = s.items[1]
    assert player.header.text().startswith("Question 2 of 3")
    wrong2 = (second.answer + 2) % 5
    qtbot.keyClicks(player.free_text, f"the answer is ({LETTERS[wrong2]})")
    qtbot.keyClick(player.free_text, Qt.Key.Key_Return)
    assert "Incorrect." in player.explanation.toPlainText(), (player.status.text(), player.free_text.text())
    key(qtbot, player, Qt.Key.Key_1)  # locked once submitted
    assert s.responses[1].chosen == wrong2
    key(qtbot, player, Qt.Key.Key_Return)
    key(qtbot, player, Qt.Key.Key_1 + s.items[2].answer)
    key(qtbot, player, Qt.Key.Key_Return)
    key(qtbot, player, Qt.Key.Key_Return)  # See results
    review = window.study_view.review
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is review, timeout=5000)
    assert review.summary.text().startswith("2 of 3 correct")
    assert [r["correct"] for r in reviews(window)] == [1, 0, 1]
    # "Certain" and right is Easy: days away. The other two come back within minutes (learning
    # steps), and today's count shows on the tab.
    qtbot.waitUntil(lambda: window.tabs.tabText(1) == "Study (2 due)", timeout=5000)
    assert window.study_view.home.due_label.text() == "2 due today"


def test_timed_session_keeps_explanations_for_the_end(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    player = start(window, qtbot, mode="timed", count=3)
    s = player.session
    assert player.timer_label.text() in ("Time left 4:30", "Time left 4:29")  # 90 s a question, no glyph
    key(qtbot, player, Qt.Key.Key_1 + (s.items[0].answer + 1) % 5)
    key(qtbot, player, Qt.Key.Key_Right)
    key(qtbot, player, Qt.Key.Key_1 + s.items[1].answer)
    key(qtbot, player, Qt.Key.Key_Left)
    assert not player.explanation.isVisible()
    key(qtbot, player, Qt.Key.Key_1 + s.items[0].answer)  # changed before the end
    assert reviews(window) == []  # nothing counts until the block ends
    key(qtbot, player, Qt.Key.Key_Return)
    key(qtbot, player, Qt.Key.Key_Return)
    assert player.main_button.text().startswith("Finish")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    key(qtbot, player, Qt.Key.Key_Return)  # question 3 unanswered: asked first, and No stays
    assert len(asked) == 1 and "1 question is not answered (3)" in asked[0]
    assert window.study_view.currentWidget() is player and s.index == 2
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    key(qtbot, player, Qt.Key.Key_Return)  # question 3 left unanswered
    review = window.study_view.review
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is review, timeout=5000)
    assert review.summary.text() == "2 of 2 correct (100%) · 1 not answered (still due)"
    assert review.list.count() == 3 and review.list.item(2).text().startswith("–")
    review.list.setCurrentRow(0)
    assert "The answer is" in review.detail.toPlainText()
    assert len(reviews(window)) == 2


def test_the_clock_ends_a_timed_block(window, qtbot):
    player = start(window, qtbot, mode="timed", count=2)
    key(qtbot, player, Qt.Key.Key_1)
    player.session.started_at -= dt.timedelta(seconds=181)
    player._on_tick()
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is window.study_view.review, timeout=5000)
    assert len(reviews(window)) == 1


def test_commit_first_shows_the_key_and_the_models_steps_then_self_grade(window, qtbot):
    items = window.quiz.build(QuizFilter(count=1, pools=("new",), kinds=("commit",)))
    case_id = items[0].case_id
    chats = ChatStore(window.library)
    conv = chats.start(Conversation(case_id))
    chats.add_message(StoredMessage(conv.id, "user", "What is it?"))
    chats.add_message(StoredMessage(conv.id, "assistant", "## Primary Diagnosis\nX", "Step 1: look",
                                    steps=[{"number": 1, "text": "Look at the anion gap"}]))
    player = start(window, qtbot, kinds=("commit",), count=40)
    idx = next(i for i, it in enumerate(player.session.items) if it.case_id == case_id)
    player.show_item(idx)
    assert player.commit_box.isVisible() and not player.option_buttons
    qtbot.keyClicks(player.commit_dx, "Diabetic ketoacidosis")
    player.setFocus()
    key(qtbot, player, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Look at the anion gap" in player.explanation.toPlainText(), timeout=5000)
    text = player.explanation.toPlainText()
    assert "Diabetic ketoacidosis" in text and "Answer key" in text
    labels = [b.text() for b in player.rating_buttons]  # each grade says when it brings the case back
    assert labels[0].startswith("1  Again · in ") and "min" in labels[0]
    assert all(" · in " in t for t in labels) and labels[3] != labels[0]
    key(qtbot, player, Qt.Key.Key_3)
    window.runner.wait()
    log = reviews(window)
    assert [(r["rating"], r["correct"]) for r in log] == [(GOOD, 1)] and "Diabetic ketoacidosis" in log[0]["response"]


def test_nothing_matching_says_so(window, qtbot):
    home = window.study_view.home
    for p, cb in home.pools.items():
        cb.setChecked(p == "flagged")
    home.start_button.click()
    qtbot.waitUntil(lambda: "No questions match" in home.message.text(), timeout=5000)


GENERATED = {
    "stem": "A 30-year-old woman has fever, dysuria and right flank pain with costovertebral angle tenderness.",
    "question": "Which is the most likely diagnosis?", "teaching_point": "Fever with flank pain means the kidney.",
    "options": [{"text": t, "correct": i == 0, "explanation": "why " + t}
                for i, t in enumerate(("Acute pyelonephritis", "Cystitis", "Renal colic", "Appendicitis",
                                       "Acute pyelonephritis"))],
}


def test_a_question_written_by_the_model_is_reviewed_fixed_and_approved(window, qtbot):
    window.set_backend(ScriptedBackend([json.dumps(GENERATED)]))
    window.tabs.setCurrentIndex(0)
    window.library_pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.case is not None, timeout=5000)
    window.generate_question()
    from gazal_desktop.ui.draft_review import DraftReview

    qtbot.waitUntil(lambda: any(isinstance(w, DraftReview) and w.isVisible() and w.current is not None
                                for w in window.study_view.children()), timeout=10000)
    dlg = next(w for w in window.study_view.children() if isinstance(w, DraftReview))
    assert "Options repeat" in dlg.problems.text() and not dlg.approve_button.isEnabled()
    case = window.case  # the case's own answer key sits beside the draft
    assert f"Diagnosis: {case.diagnosis}" in dlg.answer_key.toPlainText()
    dlg.option_edits[4][0].setText("Ovarian torsion")
    assert dlg.problems.text() == "Ready to approve." and dlg.approve_button.isEnabled()
    dlg.approve_button.click()
    qtbot.waitUntil(lambda: dlg.list.count() == 0, timeout=5000)
    window.runner.wait()
    (item,) = [i for i in window.quiz.build(QuizFilter(count=500, pools=("new",))) if i.source == "generated"]
    assert item.options[4].text == "Ovarian torsion" and item.correct_text == "Acute pyelonephritis"
    dlg.close()
    from gazal_desktop.ui.study.explanation import explanation_html

    assert "Model-written question" in explanation_html(item, None)  # labelled wherever it is shown
    window.tabs.setCurrentWidget(window.study_view)
    home = window.study_view.home
    home.count.setValue(200)
    home.start_button.click()
    player = window.study_view.player
    qtbot.waitUntil(lambda: player.session is not None, timeout=5000)
    index = next(i for i, it in enumerate(player.session.items) if it.source == "generated")
    player.show_item(index)
    assert "model-written" in player.header.text()


def test_progress_chart_and_csv_export(window, qtbot, tmp_path):
    player = start(window, qtbot, count=2)
    for _ in range(2):
        key(qtbot, player, Qt.Key.Key_1 + player.session.current.answer)
        key(qtbot, player, Qt.Key.Key_Return)
        key(qtbot, player, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is window.study_view.review, timeout=5000)
    window.study_view.show_progress()
    view = window.study_view.progress
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is view, timeout=5000)
    assert "Streak: 1 day" in view.summary.text() and "2 answered today" in view.summary.text()
    assert sum(view.weekly.values) == 2 and view.weekly.ratios == [1.0]
    assert sum(view.forecast.values) == 2
    assert view.table.rowCount() >= 1 and view.table.item(0, 2).text() == "100%"
    view.weekly.grab()  # paints without error
    out = tmp_path / "results.csv"
    window.study_view.export_results(str(out))
    qtbot.waitUntil(out.exists, timeout=5000)
    assert out.read_text().count("\n") == 4  # header, two answers, the disclaimer


def test_confidence_and_note_from_the_keyboard(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    player = start(window, qtbot, count=1)
    for k, level in ((Qt.Key.Key_G, "low"), (Qt.Key.Key_C, "high"), (Qt.Key.Key_S, "medium")):
        key(qtbot, player, k)
        assert player.confidence_buttons[level].isChecked()
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("Review the nomogram.", True))
    key(qtbot, player, Qt.Key.Key_N)
    window.runner.wait()
    assert window.quiz.get(player.session.current.id).note == "Review the nomogram."
    assert player.note_button.text().startswith("Note ✎")


def test_ctrl_z_takes_back_the_last_answer_and_its_schedule(window, qtbot):
    player = start(window, qtbot, count=2)
    s = player.session
    first = s.items[0]
    card_before = window.quiz.get(first.id).card
    key(qtbot, player, Qt.Key.Key_1 + (first.answer + 1) % 5)  # a slip: the wrong option
    key(qtbot, player, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: player.status.text().startswith("Next review in"), timeout=5000)
    assert len(reviews(window)) == 1
    key(qtbot, player, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: player.status.text().startswith("Answer taken back"), timeout=5000)
    assert reviews(window) == [] and window.quiz.get(first.id).card == card_before  # as if never answered
    assert not player.revealed and s.index == 0
    key(qtbot, player, Qt.Key.Key_1 + first.answer)
    key(qtbot, player, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: player.status.text().startswith("Next review in"), timeout=5000)
    assert [r["correct"] for r in reviews(window)] == [1]


def test_a_suspended_block_resumes_after_a_relaunch_where_it_was(window, qtbot, tmp_path):
    """Closing the window mid-block suspends it; the next launch lists it, and Resume brings back
    the same questions in the same option order, the answers given, and the timed clock."""
    from tests.ui.test_history import open_window

    player = start(window, qtbot, mode="timed", count=3)
    s = player.session
    order = [(it.id, it.shown_order) for it in s.items]
    key(qtbot, player, Qt.Key.Key_1 + s.items[0].answer)
    key(qtbot, player, Qt.Key.Key_Right)
    key(qtbot, player, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # strike C on question 2
    window.close()  # mid-block
    w = open_window(qtbot, tmp_path / "data")
    try:
        w.tabs.setCurrentWidget(w.study_view)
        home = w.study_view.home
        qtbot.waitUntil(lambda: home.suspended_list.count() == 1, timeout=5000)
        assert home.suspended_box.isVisible() and "Timed block of 3: 1 answered" in home.suspended_list.item(0).text()
        home.resume_button.click()
        p = w.study_view.player
        qtbot.waitUntil(lambda: w.study_view.currentWidget() is p and p.session is not None, timeout=5000)
        r = p.session
        assert [(it.id, it.shown_order) for it in r.items] == order and r.index == 1
        assert p.option_buttons[0].isChecked() is False and p.option_buttons[2].struck
        assert r.responses[0].chosen == r.items[0].answer
        assert p.timer_label.text().startswith("Time left 4:")  # the clock went on from where it stopped
        assert w.quiz.reviews() == []  # a timed block's answers count only when it ends
        p.end_block()
        qtbot.waitUntil(lambda: w.study_view.currentWidget() is w.study_view.review, timeout=5000)
        w.runner.wait()
        assert len(w.quiz.reviews()) == 1 and w.quiz.suspended() == []
    finally:
        w.close()


def test_suspend_then_discard_from_home(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    player = start(window, qtbot, count=2)
    key(qtbot, player, Qt.Key.Key_1 + player.session.items[0].answer)
    key(qtbot, player, Qt.Key.Key_Return)  # tutor: recorded now
    qtbot.waitUntil(lambda: player.status.text().startswith("Next review in"), timeout=5000)
    player.suspend_button.click()
    home = window.study_view.home
    qtbot.waitUntil(lambda: window.study_view.currentWidget() is home and home.suspended_list.count() == 1,
                    timeout=5000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    home.discard_button.click()
    qtbot.waitUntil(lambda: home.suspended_list.count() == 0 and not home.suspended_box.isVisible(), timeout=5000)
    assert len(reviews(window)) == 1  # the answer graded in tutor mode still counts


def test_end_block_asks_when_questions_are_unanswered(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    player = start(window, qtbot, count=3)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    player.end_button.click()
    assert len(asked) == 1 and "3 questions are not answered" in asked[0]
    assert window.study_view.currentWidget() is player and player.session.finished_at is None


def test_the_case_editor_edits_an_explanation_per_option(window, qtbot):
    from gazal_desktop.library.cases import Case
    from gazal_desktop.ui.library_pane import CaseEditor

    case = Case(title="T", vignette="A vignette long enough.", mcq_question="Q?", mcq_options=["a", "b", "c"],
                mcq_answer=1, mcq_explanations=["why a", "why b", "why c"])
    dlg = CaseEditor(case, window)
    assert dlg.explanations.toPlainText() == "why a\nwhy b\nwhy c"
    dlg.explanations.setPlainText("why a\n\nwhy c, edited")  # b left empty
    assert dlg.result_case().mcq_explanations == ["why a", "", "why c, edited"]
    dlg.explanations.setPlainText("only a")
    assert dlg.result_case().mcq_explanations == ["only a", "", ""]
    dlg.explanations.setPlainText("\n\n")
    assert dlg.result_case().mcq_explanations == []
    dlg.close()
