"""The tag filter: a searchable list of every tag, any number ticked (a case matches if it
has any of them). A single-choice popup of hundreds of tags was unusable."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget,
    QWidgetAction,
)


class TagFilter(QToolButton):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.menu_ = QMenu(self)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(6, 6, 6, 6)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a tag…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setMinimumSize(240, 260)
        self.list.itemChanged.connect(self._on_item_changed)
        row = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_selection)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        lay.addWidget(self.search)
        lay.addWidget(self.list)
        lay.addLayout(row)
        act = QWidgetAction(self.menu_)
        act.setDefaultWidget(box)
        self.menu_.addAction(act)
        self.menu_.aboutToShow.connect(self.search.setFocus)
        self.setMenu(self.menu_)
        self._update_text()

    def set_tags(self, tags: list[str]) -> None:
        """Every tag in the library; ticked ones that still exist stay ticked."""
        keep = set(self.selected())
        self.list.blockSignals(True)
        self.list.clear()
        for t in tags:
            item = QListWidgetItem(t)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if t in keep else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._filter(self.search.text())
        self._update_text()

    def selected(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_selected(self, tags: list[str]) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in tags else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._update_text()
        self.changed.emit()

    def clear_selection(self) -> None:
        self.set_selected([])

    def visible_tags(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count()) if not self.list.item(i).isHidden()]

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _on_item_changed(self, _item) -> None:
        self._update_text()
        self.changed.emit()

    def _update_text(self) -> None:
        chosen = self.selected()
        self.setText("All tags" if not chosen else f"Tag: {chosen[0]}" if len(chosen) == 1 else f"{len(chosen)} tags")
        self.setToolTip(", ".join(chosen) if chosen else "Show cases with any of the ticked tags")
