"""The patient-mode debrief page: what was elicited and missed (the learner can mark an item
the matching missed), tests needed, not needed and missed, the differential against the
expected one, and the learner's numbered steps beside Gazal's own reasoning on the full case.

Everything shown comes from core.patient.debrief (the program's scoring against the script);
only "Gazal's reasoning" comes from the model. All text is escaped.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QTextBrowser, QVBoxLayout, QWidget,
)

from gazal_desktop.core.patient import Debrief, Encounter, debrief
from gazal_desktop.safety import DISCLAIMER_TITLE
from gazal_desktop.ui.markdown import esc_html as esc


def debrief_html(enc: Encounter, d: Debrief) -> str:
    got = len(d.elicited) + len(d.marked)
    parts = [f"<h3>History: {got} of {d.key_total} key items</h3>"]
    if d.elicited:
        parts.append("<p><b>You asked about:</b></p><ul>" + "".join(
            f"<li>✓ {esc(h.topic)}: <i>{esc(h.fact)}</i></li>" for h in d.elicited) + "</ul>")
    if d.marked:
        parts.append("<p><b>Marked by you as covered:</b></p><ul>" + "".join(
            f"<li>✓ {esc(h.topic)}</li>" for h in d.marked) + "</ul>")
    if d.missed:
        parts.append("<p style='color:#b3261e'><b>Missed:</b></p><ul>" + "".join(
            f"<li>✗ {esc(h.topic)}: <i>{esc(h.fact)}</i></li>" for h in d.missed) + "</ul>")
    parts.append("<h3>Examination</h3><ul>" + "".join(
        f"<li>✓ {esc(f.name)}: {esc(f.result)}</li>" for f in d.exam_done) + "".join(
        f"<li>✗ not examined: {esc(f.name)}: {esc(f.result)}</li>" for f in d.exam_missed) + "</ul>")
    parts.append("<h3>Tests</h3><ul>"
                 + "".join(f"<li>✓ needed: {esc(t.name)}: {esc(t.result)}</li>" for t in d.tests_needed)
                 + "".join(f"<li>✗ missed: {esc(t.name)}: {esc(t.result)}</li>" for t in d.tests_missed)
                 + "".join(f"<li>– not needed: {esc(n)}</li>" for n in d.tests_unneeded) + "</ul>")
    verdict = "you named it" if d.diagnosis_right else "your leading diagnosis was different"
    parts.append(f"<h3>Diagnosis</h3><p><b>{esc(d.diagnosis)}</b> ({verdict}).</p>")
    parts.append("<p><b>Expected differential:</b> "
                 + ", ".join([f"✓ {esc(x)}" for x in d.differential_hit] + [f"✗ {esc(x)}" for x in d.differential_missed])
                 + "</p>")
    if d.differential_extra:
        parts.append("<p><b>Also on your list:</b> " + esc(", ".join(d.differential_extra)) + "</p>")
    parts.append("<p><b>Key management:</b></p><ol>" + "".join(f"<li>{esc(m)}</li>" for m in d.management) + "</ol>")
    learner = enc.commit.steps if enc.commit else []
    if learner or enc.gazal_steps:
        rows = []
        for i, j in d.step_pairs:
            left = esc(learner[i]) if i is not None else "<i style='color:#b3261e'>(not in your reasoning)</i>"
            right = esc(enc.gazal_steps[j]) if j is not None else "<i style='color:#9a6700'>(Gazal did not make this point)</i>"
            rows.append(f"<tr><td>{left}</td><td>{right}</td></tr>")
        parts.append("<h3>Your reasoning beside Gazal's</h3><table border='1' cellpadding='4' cellspacing='0' "
                     "width='100%'><tr><th>Your steps</th><th>Gazal's steps</th></tr>" + "".join(rows) + "</table>")
        if not enc.gazal_steps:
            parts.append("<p><i>Gazal's reasoning on the full case is not here yet: ask for it below (a model must "
                         "be loaded).</i></p>")
    parts.append(f"<p><small>Simulated patient, fictional case. {esc(DISCLAIMER_TITLE)}.</small></p>")
    return "".join(parts)


class DebriefPage(QWidget):
    changed = Signal()  # the learner marked or unmarked an item
    gazal_requested = Signal()
    finish_requested = Signal()
    export_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enc: Encounter | None = None
        lay = QVBoxLayout(self)
        self.title = QLabel("<b>Debrief</b>")
        lay.addWidget(self.title)
        body = QHBoxLayout()
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        body.addWidget(self.text, 3)
        side = QVBoxLayout()
        side.addWidget(QLabel("Did you ask about one of these in other words?\nTick it to count it."))
        self.missed = QListWidget()
        self.missed.itemChanged.connect(self._on_ticked)
        side.addWidget(self.missed, 1)
        body.addLayout(side, 1)
        lay.addLayout(body, 1)
        row = QHBoxLayout()
        self.back_button = QPushButton("← Back to the patient")
        self.back_button.clicked.connect(self.back_requested)
        row.addWidget(self.back_button)
        self.state = QLabel()
        row.addWidget(self.state, 1)
        self.gazal_button = QPushButton("Gazal's reasoning on the full case")
        self.gazal_button.clicked.connect(self.gazal_requested)
        row.addWidget(self.gazal_button)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_requested)
        row.addWidget(self.export_button)
        self.finish_button = QPushButton("Finish: add review cards")
        self.finish_button.clicked.connect(self.finish_requested)
        row.addWidget(self.finish_button)
        lay.addLayout(row)

    def show_encounter(self, enc: Encounter) -> Debrief:
        self.enc = enc
        d = debrief(enc)
        self.text.setHtml(debrief_html(enc, d))
        self.missed.blockSignals(True)
        self.missed.clear()
        for h in d.missed + d.marked:
            it = QListWidgetItem(h.topic, self.missed)
            it.setData(Qt.ItemDataRole.UserRole, h.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if h in d.marked else Qt.CheckState.Unchecked)
        self.missed.blockSignals(False)
        finished = enc.finished_at is not None
        self.finish_button.setEnabled(not finished)
        self.finish_button.setText("Finished" if finished else "Finish: add review cards")
        self.gazal_button.setEnabled(not enc.gazal_steps)
        return d

    def _on_ticked(self, item: QListWidgetItem) -> None:
        if self.enc is None:
            return
        self.enc.mark_covered(item.data(Qt.ItemDataRole.UserRole), item.checkState() == Qt.CheckState.Checked)
        self.show_encounter(self.enc)
        self.changed.emit()
