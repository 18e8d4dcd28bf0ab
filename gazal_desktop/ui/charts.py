"""A small bar chart drawn with QPainter (PySide6-Essentials has no QtCharts).

Bars show a count; an optional second series in 0..1 (accuracy) is drawn as a line with
points on its own 0-100 % scale.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


class BarChart(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.labels: list[str] = []
        self.values: list[float] = []
        self.ratios: list[float | None] | None = None
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(self, labels: list[str], values: list[float], ratios: list[float | None] | None = None,
                 ratio_word: str = "correct") -> None:
        self.labels, self.values, self.ratios = list(labels), list(values), list(ratios) if ratios is not None else None
        self.setToolTip("\n".join(
            f"{lab}: {int(v)}" + (f" ({r:.0%} {ratio_word})" if self.ratios and r is not None else "")
            for lab, v, r in zip(self.labels, self.values, self.ratios or [None] * len(self.values))))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        fm = p.fontMetrics()
        p.setPen(text)
        p.drawText(QRectF(0, 0, self.width(), fm.height() + 4), Qt.AlignmentFlag.AlignLeft, self.title)
        top, bottom, left, right = fm.height() + 10, self.height() - fm.height() - 6, 34, self.width() - 36
        if not self.values or right <= left or bottom <= top:
            p.drawText(QRectF(0, top, self.width(), bottom - top), Qt.AlignmentFlag.AlignCenter, "No data yet")
            return
        peak = max(max(self.values), 1)
        p.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        p.drawLine(left, bottom, right, bottom)
        p.setPen(text)
        p.drawText(QRectF(0, top - fm.height() / 2, left - 4, fm.height()), Qt.AlignmentFlag.AlignRight, str(int(peak)))
        p.drawText(QRectF(0, bottom - fm.height(), left - 4, fm.height()), Qt.AlignmentFlag.AlignRight, "0")
        n = len(self.values)
        slot = (right - left) / n
        bar = QColor(pal.color(QPalette.ColorRole.Highlight))
        every = max(1, int(n / max(1, (right - left) / (fm.horizontalAdvance("00-00") + 8))))
        points = []
        for i, (label, v) in enumerate(zip(self.labels, self.values)):
            x = left + i * slot
            h = (bottom - top) * v / peak
            width = min(slot * 0.7, 48.0)  # a lone week is a bar, not a wall
            p.fillRect(QRectF(x + (slot - width) / 2, bottom - h, width, h), bar)
            if i % every == 0:
                p.drawText(QRectF(x - 10, bottom + 2, slot + 20, fm.height()), Qt.AlignmentFlag.AlignHCenter, label)
            if self.ratios and self.ratios[i] is not None:
                points.append(QPointF(x + slot / 2, bottom - (bottom - top) * self.ratios[i]))
        if points:
            accent = QColor("#d9822b")
            path = QPainterPath(points[0])
            for pt in points[1:]:
                path.lineTo(pt)
            p.setPen(QPen(accent, 2))
            p.drawPath(path)
            p.setBrush(accent)
            for pt in points:
                p.drawEllipse(pt, 3, 3)
            p.drawText(QRectF(right + 4, top - fm.height() / 2, 32, fm.height()), Qt.AlignmentFlag.AlignLeft, "100%")
            p.drawText(QRectF(right + 4, bottom - fm.height(), 32, fm.height()), Qt.AlignmentFlag.AlignLeft, "0%")
        p.end()
