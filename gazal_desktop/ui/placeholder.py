"""A minimal window shown until the full app lands: banner, disclaimer, version."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from gazal_desktop import __version__


class PlaceholderWindow(QMainWindow):
    def __init__(self, banner: str, disclaimer: str) -> None:
        super().__init__()
        self.setWindowTitle(f"Gazal Desktop {__version__}")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.banner = QLabel(banner, central)
        self.banner.setObjectName("disclaimerBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            "background:#8a1c1c;color:white;font-weight:bold;padding:8px;border-radius:4px;"
        )
        body = QLabel(disclaimer, central)
        body.setWordWrap(True)
        note = QLabel(
            "The case library and chat arrive in a later release. Convert a model now with "
            "<code>gazal-convert</code>.",
            central,
        )
        note.setWordWrap(True)
        layout.addWidget(self.banner)
        layout.addWidget(body)
        layout.addWidget(note)
        layout.addStretch(1)
        self.setCentralWidget(central)
        self.resize(640, 360)
