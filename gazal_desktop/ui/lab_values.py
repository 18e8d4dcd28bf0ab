"""Reference ranges beside a quiz or a discussion (Ctrl+L), as question banks offer: common
adult ranges in conventional and SI units, searchable. Educational; ranges vary by laboratory."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from gazal_desktop import resources


def load_lab_values() -> tuple[str, list[tuple[str, str, str, str]]]:
    """(the note, rows of (group, test, conventional, SI))."""
    data = json.loads(resources.read_text("lab_values.json"))
    rows = [(g["name"], *t) for g in data["groups"] for t in g["tests"]]
    return data["note"], rows


class LabValuesPanel(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lab values (educational reference ranges)")
        self.setModal(False)  # beside the question, not in front of it
        note, self.rows = load_lab_values()
        lay = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a test: sodium, PaCO2, INR, CSF…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        lay.addWidget(self.search)
        self.table = QTableWidget(len(self.rows), 4)
        self.table.setHorizontalHeaderLabels(["Group", "Test", "Conventional units", "SI units"])
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        lay.addWidget(self.table, 1)
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.note)
        self.resize(720, 560)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for r, row in enumerate(self.rows):
            hay = " ".join(row).lower()
            self.table.setRowHidden(r, not all(w in hay for w in words))

    def visible_tests(self) -> list[str]:
        return [self.rows[r][1] for r in range(len(self.rows)) if not self.table.isRowHidden(r)]

    def open_on_top(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
        self.search.setFocus()
        self.search.selectAll()
