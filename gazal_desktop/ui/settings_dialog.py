"""Settings: sampling presets (the model card's first), context, GPU layers, threads,
data folder, theme and font size."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QPushButton,
    QSpinBox, QWidget,
)

from gazal_desktop.core.budget import UNLIMITED
from gazal_desktop.core.sampling import BUILTIN_PRESETS, PresetStore, Sampling
from gazal_desktop.core.settings import AppSettings


_ORIGINAL: dict = {}  # the platform's own style, palette and font, before any choice


def dark_palette() -> QPalette:
    """A dark palette for Qt's Fusion style (platforms without a dark theme of their own,
    Linux on X11 among them, ignored the colour-scheme hint)."""
    p = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#26272b",
        QPalette.ColorRole.ToolTipBase: "#303134", QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2b2c30",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#3d7bd9", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    }
    for role, value in colors.items():
        p.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
    return p


def apply_appearance(settings: AppSettings) -> None:
    """Theme and font size, applied at once on every platform: "light" and "dark" use Qt's
    Fusion style with a light or dark palette; "system" gives back the platform's own look.
    Font size 0 is the system's size."""
    from PySide6.QtWidgets import QApplication, QStyleFactory

    app = QApplication.instance()
    if app is None:
        return
    if not _ORIGINAL:
        _ORIGINAL.update(style=app.style().name(), palette=QPalette(app.palette()), font=QFont(app.font()))
    hints = app.styleHints()
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(settings.theme, Qt.ColorScheme.Unknown)
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+: native dialogs and the title bar follow too
        hints.setColorScheme(scheme)
    if settings.theme in ("light", "dark"):
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(dark_palette() if settings.theme == "dark" else app.style().standardPalette())
    else:
        app.setStyle(QStyleFactory.create(_ORIGINAL["style"]) or app.style())
        app.setPalette(_ORIGINAL["palette"])
    font = QFont(_ORIGINAL["font"])
    if settings.font_size:
        font.setPointSize(settings.font_size)
    app.setFont(font)
    from gazal_desktop import resources

    app.setStyleSheet(resources.read_text("style.qss"))  # one sheet for both themes (palette colours)


class LayersSpin(QSpinBox):
    """GPU layers in words: -2 recommended, -1 all, 0 none (CPU only), else a count."""

    WORDS = {-2: "Recommended by the fit check", -1: "All layers", 0: "None (CPU only)"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(-2, 1000)

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt)
        return self.WORDS.get(value, str(value))

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt)
        for value, words in self.WORDS.items():
            if text.strip().lower() == words.lower():
                return value
        try:
            return int(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        if any(w.lower().startswith(text.strip().lower()) for w in self.WORDS.values()) or text.strip().lstrip("-").isdigit():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, presets: PresetStore, data_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings, self.presets = replace(settings), presets
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.preset = QComboBox()
        self.preset.addItems(presets.names())
        self.preset.setCurrentText(settings.preset if settings.preset in presets.names() else presets.names()[0])  # = resolve()
        self.save_as = QPushButton("Save as…")
        self.reset = QPushButton("Reset/delete")
        row.addWidget(self.preset, 1)
        row.addWidget(self.save_as)
        row.addWidget(self.reset)
        form.addRow("Sampling preset", row)
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=5.0, singleStep=0.05)
        self.top_p = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=1.0, singleStep=0.05)
        self.top_k = QSpinBox(minimum=0, maximum=1000)
        self.max_tokens = QSpinBox(minimum=16, maximum=32768, singleStep=256)
        self.max_tokens.setToolTip("With a reasoning budget: the answer's tokens. Without: reasoning and answer together.")
        self.reasoning_mode = QComboBox()
        for label, value in (("Its own budget", "budget"), ("Unlimited (closed when only the answer's share "
                                                             "of the context is left)", "unlimited"),
                             ("None: one limit for reasoning and answer", "none")):
            self.reasoning_mode.addItem(label, value)
        self.reasoning_budget = QSpinBox(minimum=1, maximum=131072, singleStep=512)
        self.reasoning_budget.setToolTip("When the model has reasoned this many tokens its reasoning is closed for it "
                                         "(Qwen's closing sentence and </think>) and the answer follows on its own budget.")
        self.reasoning_mode.currentIndexChanged.connect(
            lambda _i: self.reasoning_budget.setEnabled(self.reasoning_mode.currentData() == "budget"))
        for label, w in (("Temperature", self.temperature), ("Top-p", self.top_p), ("Top-k", self.top_k),
                         ("Reasoning", self.reasoning_mode), ("Reasoning budget (tokens)", self.reasoning_budget),
                         ("Answer tokens", self.max_tokens)):
            form.addRow(label, w)
        self.n_ctx = QSpinBox(minimum=512, maximum=131072, singleStep=1024)
        self.n_ctx.setValue(settings.n_ctx)
        form.addRow("Context length (tokens)", self.n_ctx)
        self.gpu_layers = LayersSpin()
        self.gpu_layers.setValue(settings.n_gpu_layers)
        self.gpu_layers.setToolTip("Recommended by the fit check, all layers, none (CPU only), or a number")
        form.addRow("GPU layers", self.gpu_layers)
        self.threads = QSpinBox(minimum=0, maximum=256)
        self.threads.setSpecialValueText("All cores")
        self.threads.setValue(settings.n_threads)
        form.addRow("CPU threads", self.threads)
        folder = QLabel(f"{data_dir}<br><small>Change with <code>gazal-desktop --data-dir DIR</code> or "
                        f"GAZAL_DATA_DIR.</small>")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Data folder", folder)
        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow("Theme", self.theme)
        self.font_size = QSpinBox(minimum=0, maximum=32)
        self.font_size.setSpecialValueText("System")
        self.font_size.setValue(settings.font_size)
        form.addRow("Font size", self.font_size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.preset.currentTextChanged.connect(self._show_preset)
        self.save_as.clicked.connect(self._save_as)
        self.reset.clicked.connect(self._reset)
        self._show_preset(self.preset.currentText())

    def _show_preset(self, name: str) -> None:
        if not name:
            return
        s = self.presets.get(name)
        self.temperature.setValue(s.temperature)
        self.top_p.setValue(s.top_p)
        self.top_k.setValue(s.top_k)
        self.max_tokens.setValue(s.max_tokens)
        mode = "none" if s.reasoning_budget is None else ("unlimited" if s.reasoning_budget == UNLIMITED else "budget")
        self.reasoning_mode.setCurrentIndex(self.reasoning_mode.findData(mode))
        self.reasoning_budget.setValue(s.reasoning_budget or 4096)
        self.reasoning_budget.setEnabled(mode == "budget")
        self.reset.setText("Reset to default" if name in BUILTIN_PRESETS else "Delete")

    def sampling(self) -> Sampling:
        base = self.presets.get(self.preset.currentText())
        return replace(base, temperature=self.temperature.value(), top_p=self.top_p.value(), top_k=self.top_k.value(),
                       max_tokens=self.max_tokens.value(),
                       reasoning_budget=self._reasoning_budget()).validated()

    def _reasoning_budget(self) -> int | None:
        mode = self.reasoning_mode.currentData()
        return None if mode == "none" else (UNLIMITED if mode == "unlimited" else self.reasoning_budget.value())

    def _save_as(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Name:", text=self.preset.currentText())
        if ok and name.strip():
            self.presets.save(name.strip(), self.sampling())
            if self.preset.findText(name.strip()) < 0:
                self.preset.addItem(name.strip())
            self.preset.setCurrentText(name.strip())

    def _reset(self) -> None:
        name = self.preset.currentText()
        self.presets.delete(name)
        if name not in BUILTIN_PRESETS:
            self.preset.removeItem(self.preset.currentIndex())
        self._show_preset(self.preset.currentText())

    def result_settings(self) -> AppSettings:
        """The edited settings; the preset's values are saved with it."""
        self.presets.save(self.preset.currentText(), self.sampling())
        s = self.settings
        s.preset = self.preset.currentText()
        s.n_ctx, s.n_gpu_layers, s.n_threads = self.n_ctx.value(), self.gpu_layers.value(), self.threads.value()
        s.theme, s.font_size = self.theme.currentData(), self.font_size.value()
        return s
