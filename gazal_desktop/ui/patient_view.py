"""Patient mode: the Patient tab. Take the history from a simulated patient, examine, order
tests, commit to a diagnosis with numbered reasoning, then a debrief (ui/patient_debrief.py).

The rules are core.patient's (what a question elicits, what an examination or a test shows,
the scoring); the model only gives the patient a voice (core.patient_voice), streamed on its
own thread. Each step is saved at once, on the database thread, as a copy of the encounter.
The case title is not shown during the encounter: it can name the diagnosis.
"""

from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QCompleter, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMessageBox, QPlainTextEdit, QPushButton, QSplitter, QStackedWidget, QTextBrowser, QVBoxLayout, QWidget,
)

from gazal_desktop.core.atomic import write_text_atomic
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.events import AnswerDelta, Finished
from gazal_desktop.core.patient import Commit, Encounter
from gazal_desktop.core.patient_voice import answer, scripted_answer
from gazal_desktop.library.cases import Case
from gazal_desktop.library.encounters import EncounterStore, encounter_markdown
from gazal_desktop.ui.gate import Banner, screen_message
from gazal_desktop.ui.keys import tab_moves_focus
from gazal_desktop.ui.markdown import esc_html as esc
from gazal_desktop.ui.patient_debrief import DebriefPage
from gazal_desktop.ui.threads import TaskRunner, start_stream

MODES = ("Ask the patient", "Examine", "Order a test")
SEND_WORDS = ("Ask", "Examine", "Order")
# Offered as completions: common examinations and tests, the same for every case (listing the
# script's own would give the work-up away). Free text works as well.
EXAMS = ["Vital signs", "General appearance", "Heart", "Chest and lungs", "Abdomen", "Neurologic examination",
         "Skin", "Legs", "Eyes", "Neck and thyroid", "Back and loins", "Mental state", "Hands", "Hydration"]
TESTS = ["Complete blood count", "Electrolytes and creatinine", "Glucose", "Liver tests", "Lipase", "CRP",
         "Blood gas", "Lactate", "Troponin", "BNP", "D-dimer", "Coagulation (INR)", "TSH", "Free T4",
         "Cortisol", "Pregnancy test", "Urinalysis", "Urine culture", "Blood cultures", "ECG", "Chest radiograph",
         "Echocardiogram", "CT head", "CT pulmonary angiography", "CT abdomen", "Abdominal ultrasound", "MRI brain",
         "Lumbar puncture", "Drug levels", "Acetaminophen level", "Salicylate level", "Ketones", "Stool testing"]
REASONING_REQUEST = ("Reason through this case step by step, from the history and examination to the tests, the "
                     "differential and the diagnosis.")


class PatientView(QWidget):
    listed = Signal(int, list)  # case id, its encounters (EncounterStore.for_case rows)
    status = Signal(str)
    deck_changed = Signal()  # review cards were added
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, store: EncounterStore, backend: Callable[[], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store, self.backend = runner, store, backend
        self.case: Case | None = None
        self.enc: Encounter | None = None
        self.cancel: CancelToken | None = None
        self._stream = None
        self._live = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(Banner(self))
        self.pages = QStackedWidget(self)
        lay.addWidget(self.pages, 1)
        self._build_start()
        self._build_encounter()
        self._build_commit()
        self.debrief = DebriefPage(self)
        self.debrief.changed.connect(self._save)
        self.debrief.back_requested.connect(lambda: self.pages.setCurrentWidget(self.encounter_page))
        self.debrief.gazal_requested.connect(self.ask_gazal)
        self.debrief.finish_requested.connect(self.finish)
        self.debrief.export_requested.connect(lambda: self.export())
        self.pages.addWidget(self.debrief)
        self.set_case(None)

    # -- pages --------------------------------------------------------------------------------
    def _build_start(self) -> None:
        self.start_page = QWidget()
        lay = QVBoxLayout(self.start_page)
        self.start_title = QLabel()
        self.start_title.setWordWrap(True)
        lay.addWidget(self.start_title)
        lay.addWidget(QLabel("Take the history from a simulated patient, examine, order tests, then commit to a "
                             "diagnosis and compare your reasoning with Gazal's. Educational: fictional patients."))
        self.start_button = QPushButton("Start a new encounter")
        self.start_button.clicked.connect(self.start)
        lay.addWidget(self.start_button)
        lay.addWidget(QLabel("Earlier encounters with this case:"))
        self.history_list = QListWidget()
        self.history_list.itemActivated.connect(lambda _it: self.resume())
        lay.addWidget(self.history_list, 1)
        row = QHBoxLayout()
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda: self.resume())
        row.addWidget(self.resume_button)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.pages.addWidget(self.start_page)

    def _build_encounter(self) -> None:
        self.encounter_page = QWidget()
        lay = QVBoxLayout(self.encounter_page)
        top = QHBoxLayout()
        self.header = QLabel()
        top.addWidget(self.header, 1)
        self.commit_button = QPushButton("Commit and debrief…")
        self.commit_button.clicked.connect(lambda: self.pages.setCurrentWidget(self.commit_page))
        top.addWidget(self.commit_button)
        self.leave_button = QPushButton("Leave (saved)")
        self.leave_button.clicked.connect(self.leave)
        top.addWidget(self.leave_button)
        lay.addLayout(top)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        ll.addWidget(self.transcript, 1)
        self.live = QLabel()  # the answer being written: a label, so each token is not a re-render
        self.live.setWordWrap(True)
        self.live.setTextFormat(Qt.TextFormat.PlainText)  # the model's words are never markup
        self.live.setVisible(False)
        ll.addWidget(self.live)
        row = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.currentIndexChanged.connect(self._on_mode)
        row.addWidget(self.mode)
        self.input = QLineEdit()
        self.input.returnPressed.connect(self.send)
        row.addWidget(self.input, 1)
        self.send_button = QPushButton("Ask")
        self.send_button.clicked.connect(self._on_send_clicked)
        row.addWidget(self.send_button)
        ll.addLayout(row)
        self.state = QLabel()
        ll.addWidget(self.state)
        split.addWidget(left)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("<b>Found so far</b>"))
        self.found = QTextBrowser()
        rl.addWidget(self.found, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay.addWidget(split, 1)
        self.pages.addWidget(self.encounter_page)
        self._on_mode(0)

    def _build_commit(self) -> None:
        self.commit_page = QWidget()
        form = QFormLayout(self.commit_page)
        self.leading = QLineEdit()
        self.leading.setPlaceholderText("Your leading diagnosis")
        self.differential = QPlainTextEdit()
        self.differential.setPlaceholderText("Your differential, one diagnosis per line")
        self.next_steps = QPlainTextEdit()
        self.next_steps.setPlaceholderText("Your next steps in management")
        self.reasoning = QPlainTextEdit()
        self.reasoning.setPlaceholderText("Your reasoning as numbered steps:\n1. ...\n2. ...")
        tab_moves_focus(self.differential, self.next_steps, self.reasoning)
        form.addRow("Leading diagnosis", self.leading)
        form.addRow("Differential", self.differential)
        form.addRow("Next steps", self.next_steps)
        form.addRow("Reasoning", self.reasoning)
        row = QHBoxLayout()
        back = QPushButton("← Back to the patient")
        back.clicked.connect(lambda: self.pages.setCurrentWidget(self.encounter_page))
        row.addWidget(back)
        self.debrief_button = QPushButton("Debrief")
        self.debrief_button.clicked.connect(self.commit)
        row.addWidget(self.debrief_button)
        form.addRow(row)
        self.pages.addWidget(self.commit_page)

    # -- the case and its encounters ------------------------------------------------------------
    def set_case(self, case: Case | None) -> None:
        if self.enc is not None and case is not None and case.id == self.enc.case_id:
            self.case = case  # the same case again (the list reloaded): stay in the encounter
            return
        if self.enc is not None:
            self.leave()
        self.case = case
        self.pages.setCurrentWidget(self.start_page)
        has_script = bool(case and case.patient)
        self.start_button.setEnabled(has_script)
        if case is None:
            self.start_title.setText("<b>Select a case in the Cases tab.</b>")
        elif not has_script:
            self.start_title.setText(f"<b>{html.escape(case.title)}</b> has no patient script yet: add one in the "
                                     "case editor. (The starter cases that have one carry the tag \"patient mode\".)")
        else:
            self.start_title.setText(f"<b>Patient mode · {html.escape(case.specialty or 'Unsorted')}</b>")
        self._reload_list()

    def _reload_list(self) -> None:
        self.history_list.clear()
        case = self.case
        if case is None or case.id is None:
            return

        def done(rows):
            self.listed.emit(case.id, rows)
            if self.case is not case:
                return
            self.history_list.clear()
            for r in rows:
                state = "finished" if r["finished_at"] else "in progress"
                it = QListWidgetItem(f"{r['created_at'][:16].replace('T', ' ')} UTC · {state} · "
                                     f"{r['key_elicited']} of {r['key_total']} key history items", self.history_list)
                it.setData(Qt.ItemDataRole.UserRole, r["id"])

        self.runner.run(lambda: self.store.for_case(case.id), done, lambda e, tb: self.failed.emit(str(e)), guard=self)

    def _selected(self) -> int | None:
        it = self.history_list.currentItem()
        return None if it is None else int(it.data(Qt.ItemDataRole.UserRole))

    def start(self) -> None:
        case = self.case
        if case is None:
            return
        self.runner.run(lambda: self.store.start(case), self._open, lambda e, tb: self.failed.emit(str(e)), guard=self)

    def resume(self, eid: int | None = None) -> None:
        case, eid = self.case, eid if eid is not None else self._selected()
        if case is None or eid is None:
            return
        if self.enc is not None:
            if self.enc.id == eid:
                return
            self.leave()
        self.runner.run(lambda: self.store.get(eid, case), self._open, lambda e, tb: self.failed.emit(str(e)),
                        guard=self)

    def delete(self) -> None:
        eid = self._selected()
        if eid is not None:
            self.runner.run(lambda: self.store.delete(eid), lambda _r: self._reload_list(),
                            lambda e, tb: self.failed.emit(str(e)), guard=self)

    def _open(self, enc: Encounter) -> None:
        self.enc = enc
        self._reload_list()
        c = enc.commit or Commit()
        self.leading.setText(c.leading)
        self.differential.setPlainText("\n".join(c.differential))
        self.next_steps.setPlainText(c.next_steps)
        self.reasoning.setPlainText(c.reasoning)
        self.header.setText(f"<b>Simulated patient</b> · {html.escape(self.case.specialty or 'Unsorted')} · "
                            f"{html.escape(enc.script.persona)}")
        self.render()
        if enc.finished_at or enc.commit:
            self.debrief.show_encounter(enc)
            self.pages.setCurrentWidget(self.debrief)
        else:
            self.pages.setCurrentWidget(self.encounter_page)
            self.input.setFocus()

    def leave(self) -> None:
        self.stop_answer()
        if self.enc is not None:
            self._save()
        self.enc = None
        self.pages.setCurrentWidget(self.start_page)
        self._reload_list()

    # -- the encounter ----------------------------------------------------------------------------
    def _on_mode(self, index: int) -> None:
        words = [None, EXAMS, TESTS][index]
        self.input.setCompleter(QCompleter(words, self) if words else None)
        if self.input.completer():
            self.input.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.input.setPlaceholderText(["Ask the patient a question, in your own words",
                                       "What do you examine? (for example: heart, abdomen, vital signs)",
                                       "Which test? (from the list or in your own words)"][index])
        self.send_button.setText(SEND_WORDS[index])

    @property
    def answering(self) -> bool:
        return self._stream is not None

    def _on_send_clicked(self) -> None:
        if self.answering:
            if self.cancel is not None:
                self.cancel.cancel()
            return
        self.send()

    def send(self) -> None:
        enc = self.enc
        text = self.input.text().strip()
        if enc is None or not text or self.answering:
            return
        text = screen_message(self, text, to_patient=True)
        if text is None:
            return
        self.input.clear()
        mode = self.mode.currentIndex()
        if mode == 1:
            enc.examine(text)
        elif mode == 2:
            enc.order(text)
        else:
            enc.ask(text)
            self._answer()
        self.render()
        self._save()

    def _answer(self) -> None:
        """The patient's answer: the model's voice when one is loaded, else the script's words."""
        enc, backend = self.enc, self.backend()
        if backend is None:
            enc.patient_said(scripted_answer(enc))
            self.state.setText("No model is loaded: the patient answers with the script's own words.")
            return
        self.cancel = CancelToken()
        cancel = self.cancel
        self._live = ""
        self.send_button.setText("Stop")
        self.state.setText("The patient is answering…")

        def on_event(ev):
            if isinstance(ev, AnswerDelta):
                self._live += ev.text
                self.live.setText(f"Patient: {self._live}…")
                self.live.setVisible(True)
            elif isinstance(ev, Finished) and ev.error:
                self.state.setText(f"The model failed: {ev.error}")

        def done():
            self._stream = None
            self.live.setVisible(False)
            self.send_button.setText(SEND_WORDS[self.mode.currentIndex()])
            if self.enc is enc:
                enc.patient_said(self._live.strip() or "…")
                self.state.setText("")
                self.render()
                self._save()

        def failed(exc, _tb):
            self.state.setText(f"The patient could not answer: {exc}")

        self._stream = start_stream(self, lambda: answer(backend, enc, cancel), on_event, failed, done)

    def stop_answer(self) -> None:
        """Stop an answer being written (the encounter is left or another case chosen)."""
        if self._stream is not None:
            if self.cancel is not None:
                self.cancel.cancel()
            self._stream.detach()
            self._stream.wait(10000)
            self._stream = None
            self.live.setVisible(False)
            self.send_button.setText(SEND_WORDS[self.mode.currentIndex()])

    def render(self) -> None:
        enc = self.enc
        if enc is None:
            return
        who = {"ask": "You", "patient": "Patient", "exam": "Examination", "test": "Result"}
        color = {"ask": "#1a4d8f", "patient": "#1b5e20", "exam": "#6a1b9a", "test": "#6a1b9a"}
        rows = [f"<p><b style='color:{color['patient']}'>Patient:</b> {esc(enc.script.opening)}</p>"]
        rows += [f"<p><b style='color:{color[t.kind]}'>{who[t.kind]}:</b> {esc(t.text)}</p>" for t in enc.turns]
        self.transcript.setHtml("".join(rows))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())
        found = enc.found_so_far()
        parts = []
        for title, key in (("History", "history"), ("Examination", "exam"), ("Results", "tests")):
            items = found[key]
            parts.append(f"<p><b>{title}</b></p>" + ("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>"
                                                     if items else "<p><i>nothing yet</i></p>"))
        self.found.setHtml("".join(parts))

    def _save(self) -> None:
        if self.enc is None or self.enc.id is None:
            return
        snapshot = copy.deepcopy(self.enc)  # the database thread gets a copy, never the live encounter
        self.runner.run(lambda: self.store.save(snapshot), None, lambda e, tb: self.failed.emit(str(e)), guard=self)

    # -- commit, debrief, finish ------------------------------------------------------------------
    def commit(self) -> None:
        enc = self.enc
        if enc is None:
            return
        if not self.leading.text().strip():
            QMessageBox.information(self, "Commit", "Write your leading diagnosis first.")
            return
        enc.commit = Commit(self.leading.text().strip(),
                            [d.strip() for d in self.differential.toPlainText().splitlines() if d.strip()],
                            self.next_steps.toPlainText().strip(), self.reasoning.toPlainText().strip())
        self._save()
        self.debrief.show_encounter(enc)
        self.pages.setCurrentWidget(self.debrief)

    def ask_gazal(self) -> None:
        """Gazal's own reasoning on the full case (the vignette, as in a discussion)."""
        enc, case, backend = self.enc, self.case, self.backend()
        if enc is None or case is None:
            return
        if backend is None:
            self.debrief.state.setText("Load a model to see Gazal's reasoning on this case.")
            return
        session = ChatSession(backend=backend, vignette=case.vignette, prefill_after_reply=False)
        self.cancel = CancelToken()
        cancel = self.cancel
        self.debrief.gazal_button.setEnabled(False)
        self.debrief.state.setText("Gazal is reasoning through the full case…")
        progress = {"n": 0}

        def on_event(_ev):
            progress["n"] += 1
            if progress["n"] % 20 == 0:
                self.debrief.state.setText(f"Gazal is reasoning through the full case… ({progress['n']} pieces)")

        def done():
            self._stream = None
            reply = session.messages[-1] if session.messages else None
            steps = [s.text for s in reply.steps] if reply is not None else []
            if self.enc is enc:
                enc.gazal_steps = steps or ([reply.content.strip()] if reply is not None and reply.content.strip() else [])
                self.debrief.state.setText("" if steps else "Gazal's reply had no numbered steps.")
                self._save()
                self.debrief.show_encounter(enc)

        def failed(exc, _tb):
            self.debrief.state.setText(f"Gazal could not answer: {exc}")
            self.debrief.gazal_button.setEnabled(True)

        self._stream = start_stream(self, lambda: session.send(REASONING_REQUEST, cancel), on_event, failed, done)

    def finish(self) -> None:
        enc, case = self.enc, self.case
        if enc is None or case is None or enc.finished_at:
            return
        snapshot = copy.deepcopy(enc)

        def done(result):
            _d, added = result
            enc.finished_at = snapshot.finished_at
            self.debrief.show_encounter(enc)
            self.status.emit(f"Encounter finished: {added} review card{'s' if added != 1 else ''} added to Study")
            self.deck_changed.emit()

        self.runner.run(lambda: self.store.finish(snapshot, case), done, lambda e, tb: self.failed.emit(str(e)),
                        guard=self)

    def export(self, path: str | None = None) -> None:
        enc, case = self.enc, self.case
        if enc is None or case is None:
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export the encounter", "patient-encounter.md",
                                                  "Markdown (*.md)")
        if path:
            text = encounter_markdown(copy.deepcopy(enc), case)
            self.runner.run(lambda: write_text_atomic(Path(path), text), lambda _r: self.status.emit(f"Exported {path}"),
                            lambda e, tb: self.failed.emit(f"The encounter could not be saved: {e}"), guard=self)
