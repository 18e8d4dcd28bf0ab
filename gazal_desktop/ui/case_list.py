"""One row of the case list: the title (elided, in full in the tooltip), a specialty chip,
the difficulty, and whether the case has discussions or a question due today."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

ROW_ROLE = Qt.ItemDataRole.UserRole + 2  # a CaseRow


@dataclass(frozen=True)
class CaseRow:
    title: str
    specialty: str = ""
    difficulty: str = ""
    discussions: int = 0
    due: bool = False
    hit: str = ""  # the matching words, when a search found it
    in_discussion: bool = False  # the search matched one of its discussions

    def tooltip(self) -> str:
        parts = [self.title]
        facts = [x for x in (self.specialty, self.difficulty) if x]
        if self.discussions:
            facts.append(f"{self.discussions} discussion{'s' if self.discussions != 1 else ''}")
        if self.due:
            facts.append("a question is due today")
        if facts:
            parts.append(" · ".join(facts))
        if self.hit:
            parts.append(self.hit)
        return "\n".join(parts)

    def detail(self) -> str:
        """The second line's words after the chip."""
        words = [self.difficulty] if self.difficulty else []
        if self.discussions:
            words.append(f"{self.discussions} discussion{'s' if self.discussions != 1 else ''}")
        if self.in_discussion:
            words.append("found in a discussion")
        return " · ".join(words)


def chip_color(specialty: str) -> QColor:
    """A stable, readable colour per specialty (the same in light and dark themes)."""
    hue = zlib.crc32(specialty.encode()) % 360
    return QColor.fromHsl(hue, 140, 120)


class CaseRowDelegate(QStyledItemDelegate):
    PAD = 6

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 (Qt)
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + self.PAD * 3)

    def paint(self, painter, option, index) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, CaseRow):
            return super().paint(painter, option, index)
        painter.save()
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        pal = option.palette
        r = option.rect.adjusted(self.PAD, self.PAD // 2, -self.PAD, -self.PAD // 2)
        title_font = QFont(option.font)
        title_font.setBold(True)
        fm = QFontMetrics(title_font)
        painter.setFont(title_font)
        painter.setPen(pal.color(text_role))
        title_rect = QRect(r.left(), r.top(), r.width() - (60 if row.due else 0), fm.height())
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(row.title, Qt.TextElideMode.ElideRight, title_rect.width()))
        if row.due:  # a small "due" badge at the end of the title line
            badge = QRect(r.right() - 52, r.top() + 1, 52, fm.height() - 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#c62828"))
            painter.drawRoundedRect(badge, 6, 6)
            painter.setPen(QColor("white"))
            painter.setFont(option.font)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "due")
        small = QFont(option.font)
        sfm = QFontMetrics(small)
        y = r.top() + fm.height() + self.PAD // 2
        x = r.left()
        painter.setFont(small)
        if row.specialty:
            w = min(sfm.horizontalAdvance(row.specialty) + 12, r.width() // 2)
            chip = QRect(x, y, w, sfm.height() + 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(chip_color(row.specialty))
            painter.drawRoundedRect(chip, 8, 8)
            painter.setPen(QColor("white"))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter,
                             sfm.elidedText(row.specialty, Qt.TextElideMode.ElideRight, w - 8))
            x += w + 8
        painter.setPen(pal.color(QPalette.ColorGroup.Disabled if not selected else QPalette.ColorGroup.Active,
                                 text_role))
        detail_rect = QRect(x, y, r.right() - x, sfm.height() + 2)
        painter.drawText(detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         sfm.elidedText(row.detail(), Qt.TextElideMode.ElideRight, detail_rect.width()))
        painter.restore()
