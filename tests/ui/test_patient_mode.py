"""Patient mode in the window: a learner takes a history (without a model: the script's own
words; with the scripted backend: the model's voice), examines, orders tests, leaves and
relaunches, commits, debriefs, marks an item the matching missed, and finishes; the missed
items are in the Study deck and the encounter is in Progress."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.library.quiz import QuizFilter
from tests.ui.test_history import close, open_window


def open_case(qtbot, w, uid):
    case = w.cases.get_by_uid(uid)
    w.library_pane.select(case.id)
    qtbot.waitUntil(lambda: w.case is not None and w.case.id == case.id, timeout=5000)
    w.tabs.setCurrentWidget(w.patient_view)
    return w.patient_view


def begin(qtbot, view):
    """Start a new encounter with the open case's patient."""
    view.start_button.click()
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.encounter_page, timeout=5000)


def say(qtbot, view, mode, text):
    view.mode.setCurrentIndex(mode)
    view.input.setText(text)
    qtbot.keyClick(view.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.answering, timeout=10000)


def test_an_encounter_without_a_model_survives_a_relaunch_and_ends_in_cards_and_progress(qtbot, tmp_path):
    folder = tmp_path / "data"
    w = open_window(qtbot, folder)
    view = open_case(qtbot, w, "starter-013")
    assert view.start_button.isEnabled() and w.case.title not in view.start_title.text()  # no title cue
    begin(qtbot, view)
    script = view.enc.script
    say(qtbot, view, 0, "Can you describe the pain?")
    fact = next(h.fact for h in script.history if h.id == "character")
    assert fact in view.transcript.toPlainText() and fact in view.found.toPlainText()
    say(qtbot, view, 1, "heart")
    heart = next(f.result for f in script.exam if f.id == "heart")
    assert heart in view.transcript.toPlainText() and heart in view.found.toPlainText()
    say(qtbot, view, 2, "ECG")
    assert "Diffuse concave ST elevation" in view.found.toPlainText()
    transcript = view.transcript.toPlainText()
    close(w)  # mid-encounter

    w = open_window(qtbot, folder)
    try:
        view = open_case(qtbot, w, "starter-013")
        qtbot.waitUntil(lambda: view.history_list.count() == 1, timeout=5000)
        assert "in progress · 1 of 7 key history items" in view.history_list.item(0).text()
        view.history_list.setCurrentRow(0)
        view.resume_button.click()
        qtbot.waitUntil(lambda: view.pages.currentWidget() is view.encounter_page, timeout=5000)
        assert view.transcript.toPlainText() == transcript
        view.commit_button.click()
        view.leading.setText("Acute pericarditis")
        view.differential.setPlainText("Myocardial infarction\nPulmonary embolism")
        view.reasoning.setPlainText("1. Sharp pain\n2. Diffuse ST elevation with PR depression")
        view.debrief_button.click()
        d = view.debrief
        assert view.pages.currentWidget() is d and "History: 1 of 7 key items" in d.text.toPlainText()
        onset = next(i for i in range(d.missed.count()) if d.missed.item(i).text() == "Onset and duration")
        d.missed.item(onset).setCheckState(Qt.CheckState.Checked)  # asked in words the matching missed
        assert "History: 2 of 7 key items" in d.text.toPlainText()
        assert "✗ missed: Echocardiogram" in d.text.toPlainText()
        d.finish_button.click()
        qtbot.waitUntil(lambda: not d.finish_button.isEnabled(), timeout=5000)
        w.runner.wait()
        cards = [i for i in w.quiz.build(QuizFilter(count=500, pools=("new",), kinds=("commit",)))
                 if i.uid.startswith("recall:")]
        # 5 key history items missed, 4 needed tests not ordered; the diagnosis was named
        assert len(cards) == 9 and all(c.case_id == w.case.id and c.question for c in cards)
        progress = w.quiz.progress()
        assert [(r["specialty"], r["elicited"], r["total"]) for r in progress.patient_sessions] == \
            [("Cardiology", 2, 7)]
        md = tmp_path / "encounter.md"
        view.export(str(md))
        qtbot.waitUntil(md.exists, timeout=5000)
        text = md.read_text()
        assert "not a medical device" in text.lower() and "Acute pericarditis" in text and heart in text
    finally:
        close(w)


def test_the_patient_speaks_through_the_model_from_the_history_only(qtbot, tmp_path):
    backend = ScriptedBackend(["<think>Step 1: answer as the patient.</think>I flew back from Singapore three days "
                               "ago."], delay=0.0)
    w = open_window(qtbot, tmp_path / "data", backend)
    try:
        view = open_case(qtbot, w, "starter-016")
        begin(qtbot, view)
        say(qtbot, view, 0, "Have you travelled recently?")
        assert "I flew back from Singapore three days ago." in view.transcript.toPlainText()
        assert "answer as the patient" not in view.transcript.toPlainText()  # the reasoning stays hidden
        msgs = backend.calls[-1]
        system = msgs[0]["content"]
        s = view.enc.script
        assert s.persona in system and all(h.fact in system for h in s.history)
        assert s.diagnosis["name"] not in system and w.case.vignette not in system
        assert not any(t.result in m["content"] for m in msgs for t in s.tests)
        assert msgs[-1] == {"role": "user", "content": "Have you travelled recently?"}
        assert view.enc.elicited == ["travel"]
    finally:
        close(w)


@pytest.mark.parametrize("accept", [False, True])
def test_safety_checks_apply_to_what_the_learner_types(qtbot, tmp_path, monkeypatch, accept):
    from gazal_desktop.ui import patient_view as pv

    asked = []
    monkeypatch.setattr(pv, "screen_message",
                        lambda parent, text, to_patient=False: asked.append(text) or (text if accept else None))
    w = open_window(qtbot, tmp_path / "data")
    try:
        view = open_case(qtbot, w, "starter-016")
        begin(qtbot, view)
        say(qtbot, view, 0, "Any leg swelling?")
        assert asked == ["Any leg swelling?"] and (view.enc.turns != []) is accept
    finally:
        close(w)


def test_a_case_without_a_script_says_so(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path / "data")
    try:
        view = open_case(qtbot, w, "starter-040")
        assert not view.start_button.isEnabled() and "no patient script" in view.start_title.text()
    finally:
        close(w)


def test_history_questions_are_not_emergencies_but_the_learners_own_emergency_is(qtbot, tmp_path, monkeypatch):
    from gazal_desktop.ui.gate import EmergencyDialog

    shown = []
    monkeypatch.setattr(EmergencyDialog, "exec", lambda dlg: shown.append(1) or 0)  # the learner backs out
    w = open_window(qtbot, tmp_path / "data")
    try:
        view = open_case(qtbot, w, "starter-016")
        begin(qtbot, view)
        say(qtbot, view, 0, "Are you short of breath at the moment?")
        assert shown == [] and len(view.enc.turns) == 2  # asked and answered
        say(qtbot, view, 0, "I'm having chest pain right now, what do I do?")
        assert shown == [1] and len(view.enc.turns) == 2  # the interstitial; nothing sent
    finally:
        close(w)


def test_the_case_editor_edits_the_patient_script_and_refuses_a_broken_one_in_words(qtbot, tmp_path, monkeypatch):
    import json

    from PySide6.QtWidgets import QMessageBox

    from gazal_desktop.ui.library_pane import CaseEditor

    w = open_window(qtbot, tmp_path / "data")
    try:
        case = w.cases.get_by_uid("starter-016")
        dlg = CaseEditor(case, w)
        assert json.loads(dlg.patient.toPlainText()) == case.patient
        edited = dict(case.patient, opening="My chest hurts on the right when I breathe.")
        dlg.patient.setPlainText(json.dumps(edited))
        assert dlg.result_case().patient["opening"].startswith("My chest hurts")
        warned = []
        monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
        dlg.patient.setPlainText('{"persona": "x"')
        dlg.accept()
        assert "not valid JSON" in warned[-1] and dlg.result() == 0  # not accepted: the editor stays, nothing lost
        dlg.patient.setPlainText(json.dumps({k: v for k, v in edited.items() if k != "history"}))
        dlg.accept()
        assert "lacks 'history'" in warned[-1]
        dlg.close()
    finally:
        close(w)


def test_encounters_are_listed_with_the_case_discussions_and_open_in_the_patient_tab(qtbot, tmp_path):
    backend = ScriptedBackend(["<think>Step 1: The pain is sharp, pleuritic and positional.\nStep 2: Diffuse ST "
                               "elevation with PR depression and a rub mean pericarditis.\nStep 3: Check the "
                               "troponin for myocarditis.</think>## Primary Diagnosis\nAcute pericarditis."])
    w = open_window(qtbot, tmp_path / "data", backend)
    try:
        view = open_case(qtbot, w, "starter-013")
        begin(qtbot, view)
        bar = w.chat_view.discussions
        qtbot.waitUntil(lambda: any(str(bar.combo.itemData(i)).startswith("patient:")
                                    for i in range(bar.combo.count())), timeout=5000)
        view.commit_button.click()
        view.leading.setText("Pericarditis")
        view.reasoning.setPlainText("1. Sharp pleuritic pain that is positional\n2. Order a chest radiograph")
        view.debrief_button.click()
        view.debrief.gazal_button.click()  # Gazal's reasoning on the full case, through the model
        qtbot.waitUntil(lambda: view.enc.gazal_steps != [], timeout=10000)
        assert len(view.enc.gazal_steps) == 3
        table = view.debrief.text.toPlainText()
        assert "Your reasoning beside Gazal's" in table and "(Gazal did not make this point)" in table
        assert backend.calls[-1][0]["content"].endswith(w.case.vignette)  # the full case, as in a discussion
        view.leave()
        w.tabs.setCurrentIndex(0)
        index = next(i for i in range(bar.combo.count()) if str(bar.combo.itemData(i)).startswith("patient:"))
        bar.combo.activated.emit(index)
        qtbot.waitUntil(lambda: w.tabs.currentWidget() is view and view.enc is not None, timeout=5000)
        assert view.pages.currentWidget() is view.debrief and view.enc.gazal_steps
    finally:
        close(w)
