"""The not-a-medical-device gate, the emergency interstitial and the identifiable-data check."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget,
)

from gazal_desktop.safety import (
    DISCLAIMER, DISCLAIMER_TITLE, DISCLAIMER_VERSION, EMERGENCY_MESSAGE, LABELS, PhiSpan, redact,
)

ACKNOWLEDGEMENTS = (
    "I understand Gazal is a research and education model, not a medical device.",
    "I understand its knowledge can be out of date, regionally biased or invented, even when its "
    "reasoning reads convincingly, and every output must be verified by a qualified professional, "
    "current guidelines or my faculty.",
    "I will not use it for real patients, emergencies or identifiable patient data.",
)

BANNER_STYLE = "background:#8a1c1c;color:white;font-weight:bold;padding:6px;border-radius:3px;"


class Banner(QLabel):
    """The banner above every conversation. It has no close button and cannot be hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Educational use only — not a medical device", parent)
        self.setObjectName("disclaimerBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(BANNER_STYLE)
        self.setToolTip(DISCLAIMER)

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt override
        super().setVisible(True)


class DisclaimerGate(QDialog):
    """Blocking first-run dialog: three separate acknowledgements enable Continue."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Gazal Desktop — {DISCLAIMER_TITLE}")
        self.setModal(True)
        layout = QVBoxLayout(self)
        title = QLabel(f"<h2>{DISCLAIMER_TITLE}</h2>")
        body = QLabel(DISCLAIMER)
        body.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(body)
        self.checks = [QCheckBox(text, self) for text in ACKNOWLEDGEMENTS]
        for c in self.checks:
            c.toggled.connect(self._update)
            layout.addWidget(c)
        version = QLabel(f"Disclaimer version {DISCLAIMER_VERSION}")
        version.setStyleSheet("color: gray;")
        layout.addWidget(version)
        self.buttons = QDialogButtonBox(self)
        self.continue_button = self.buttons.addButton("Continue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.decline_button = self.buttons.addButton("Decline and quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        self.continue_button.setEnabled(all(c.isChecked() for c in self.checks))

    def accept(self) -> None:
        if all(c.isChecked() for c in self.checks):
            super().accept()


class EmergencyDialog(QDialog):
    """Shown when a message reads like a real emergency. Sends only as a stated hypothetical."""

    def __init__(self, signals, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("This looks like an emergency")
        layout = QVBoxLayout(self)
        head = QLabel(f"<h3>This app cannot help in an emergency.</h3><p>{EMERGENCY_MESSAGE}</p>")
        head.setWordWrap(True)
        layout.addWidget(head)
        found = ", ".join(sorted({s.kind for s in signals}))
        detail = QLabel(f"Your message mentions: {found} ({'; '.join(repr(s.text) for s in signals[:3])}).")
        detail.setTextFormat(Qt.TextFormat.PlainText)  # the learner's words, never read as markup
        detail.setWordWrap(True)
        layout.addWidget(detail)
        self.hypothetical = QCheckBox("This is a hypothetical teaching case, not a real situation.", self)
        layout.addWidget(self.hypothetical)
        buttons = QDialogButtonBox(self)
        self.send_button = buttons.addButton("Send as a hypothetical case", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Don't send", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.send_button.setEnabled(False)
        self.hypothetical.toggled.connect(self.send_button.setEnabled)


class PhiDialog(QDialog):
    """Highlights what looks identifiable and offers to redact it."""

    REDACT, SEND_AS_IS = 2, 3

    def __init__(self, text: str, spans: list[PhiSpan], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("This may identify a real person")
        self.text, self.spans = text, spans
        layout = QVBoxLayout(self)
        intro = QLabel("Teaching cases must not contain identifiable patient data. The highlighted parts look "
                       "like identifiers (" + ", ".join(sorted({s.kind for s in spans})) + ").")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.view = QTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setPlainText(text)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#ffd54f"))
        fmt.setForeground(QColor("black"))
        for s in spans:
            cur = self.view.textCursor()
            cur.setPosition(s.start)
            cur.setPosition(s.end, QTextCursor.MoveMode.KeepAnchor)
            cur.mergeCharFormat(fmt)
        layout.addWidget(self.view)
        buttons = QDialogButtonBox(self)
        self.redact_button = buttons.addButton("Redact and continue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.as_is_button = QPushButton("These are fictional: keep as is")
        buttons.addButton(self.as_is_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("Go back and edit", QDialogButtonBox.ButtonRole.RejectRole)
        self.redact_button.clicked.connect(lambda: self.done(self.REDACT))
        self.as_is_button.clicked.connect(lambda: self.done(self.SEND_AS_IS))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 360)

    def highlighted(self) -> list[str]:
        """The highlighted passages (what the learner sees marked)."""
        return [self.text[s.start:s.end] for s in self.spans]

    def redacted_text(self) -> str:
        return redact(self.text, self.spans)


__all__ = ["Banner", "DisclaimerGate", "EmergencyDialog", "PhiDialog", "LABELS"]


def screen_message(parent: QWidget, text: str, to_patient: bool = False) -> str | None:
    """What the learner is about to send, through the emergency interstitial and then the
    identifiable-data check (chats and patient mode alike). None: do not send it.
    `to_patient`: patient mode, where a question put to the simulated patient ("Are you short
    of breath now?") is history-taking, not an emergency; first-person text is still checked."""
    from gazal_desktop.core.patient import speaks_to_the_patient
    from gazal_desktop.safety import emergency_signals, phi_spans

    signals = [] if to_patient and speaks_to_the_patient(text) else emergency_signals(text)
    if signals:
        if EmergencyDialog(signals, parent).exec() != QDialog.DialogCode.Accepted:
            return None
    spans = phi_spans(text)
    if spans:
        dlg = PhiDialog(text, spans, parent)
        result = dlg.exec()
        if result == PhiDialog.REDACT:
            return dlg.redacted_text()
        if result != PhiDialog.SEND_AS_IS:
            return None
    return text
