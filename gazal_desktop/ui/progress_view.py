"""Progress: accuracy and volume by specialty over time, the due forecast, the streak."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from gazal_desktop.library.quiz import Progress
from gazal_desktop.ui.charts import BarChart

ALL = "All specialties"


class ProgressView(QWidget):
    back_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress: Progress | None = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        back = QPushButton("← Study")
        back.clicked.connect(self.back_requested)
        top.addWidget(back)
        self.summary = QLabel()
        self.summary.setObjectName("progressSummary")
        top.addWidget(self.summary, 1)
        self.specialty = QComboBox()
        self.specialty.currentTextChanged.connect(lambda _t: self._draw())
        top.addWidget(self.specialty)
        export = QPushButton("Export results (CSV)…")
        export.clicked.connect(self.export_requested)
        top.addWidget(export)
        lay.addLayout(top)
        self.weekly = BarChart("Questions answered per week (bars) and accuracy (line)")
        self.forecast = BarChart("Reviews due in the next 14 days")
        self.patient = BarChart("Patient mode: key history items elicited per encounter (line: share expected)")
        lay.addWidget(self.weekly)
        row = QHBoxLayout()  # side by side: the page must fit a 700-pixel-high window
        row.addWidget(self.forecast, 1)
        row.addWidget(self.patient, 1)
        lay.addLayout(row)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Specialty", "Answered", "Accuracy"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.table, 1)

    def set_progress(self, progress: Progress) -> None:
        self.progress = progress
        keep = self.specialty.currentText()
        self.specialty.blockSignals(True)
        self.specialty.clear()
        specs = sorted({r["specialty"] for r in progress.by_specialty}
                       | {r["specialty"] or "Unsorted" for r in progress.patient_sessions})
        self.specialty.addItems([ALL] + specs)
        if keep:
            self.specialty.setCurrentText(keep)
        self.specialty.blockSignals(False)
        days = "day" if progress.streak == 1 else "days"
        self.summary.setText(f"Streak: {progress.streak} {days} · {progress.reviewed_today} answered today · "
                             f"{progress.total_reviews} in all")
        self.table.setRowCount(len(progress.by_specialty))
        for row, r in enumerate(progress.by_specialty):
            for col, value in enumerate((r["specialty"], str(r["answered"]), f"{r['accuracy']:.0%}")):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.forecast.set_data([d[5:] for d, _ in progress.forecast], [n for _, n in progress.forecast])
        self._draw()

    def _draw(self) -> None:
        if self.progress is None:
            return
        chosen = self.specialty.currentText()
        weeks: dict[str, list[int]] = {}
        for r in self.progress.over_time:
            if chosen in ("", ALL) or r["specialty"] == chosen:
                w = weeks.setdefault(r["week"], [0, 0])
                w[0] += r["answered"]
                w[1] += r["correct"]
        labels = sorted(weeks)[-16:]
        self.weekly.set_data([w[5:] for w in labels], [weeks[w][0] for w in labels],
                             [weeks[w][1] / weeks[w][0] if weeks[w][0] else None for w in labels])
        sessions = [r for r in self.progress.patient_sessions
                    if chosen in ("", ALL) or (r["specialty"] or "Unsorted") == chosen][-20:]
        self.patient.set_data([r["finished_at"][5:10] for r in sessions], [r["elicited"] for r in sessions],
                              [r["elicited"] / r["total"] if r["total"] else None for r in sessions], "of expected")
