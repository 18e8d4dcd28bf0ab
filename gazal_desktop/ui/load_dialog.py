"""Open a GGUF: the fit verdict with the settings it depends on, updated as they change.

Context length, GPU layers ("all", "none", a number, or what the fit check recommends), the
KV cache type and flash attention sit beside the verdict; each change re-runs the estimate
(pure arithmetic on the model's header and this computer's memory, no loading). A context
longer than the model was trained for is warned about.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget,
)

from gazal_desktop.core import hardware
from gazal_desktop.ui.settings_dialog import LayersSpin


class LoadModelDialog(QDialog):
    def __init__(self, shape: hardware.ModelShape, hw: hardware.Hardware, n_ctx: int, n_gpu_layers: int = -2,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shape, self.hw = shape, hw
        self.setWindowTitle("Load model")
        layout = QVBoxLayout(self)
        name = QLabel(shape.name)
        name.setTextFormat(Qt.TextFormat.PlainText)  # the GGUF's own name: never rich text
        name.setStyleSheet("font-weight: bold;")
        layout.addWidget(name)
        form = QFormLayout()
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(512, 262144)
        self.n_ctx.setSingleStep(1024)
        self.n_ctx.setValue(n_ctx)
        self.n_ctx.setSuffix(" tokens")
        form.addRow("Context length", self.n_ctx)
        self.gpu_layers = LayersSpin()
        self.gpu_layers.setMaximum(max(shape.n_layer, 1))
        self.gpu_layers.setValue(n_gpu_layers)
        form.addRow(f"GPU layers (of {shape.n_layer})", self.gpu_layers)
        self.kv_type = QComboBox()
        self.kv_type.addItem("f16 (full precision)", "f16")
        self.kv_type.addItem("q8_0 (half the memory, nearly the same answers)", "q8_0")
        form.addRow("KV cache", self.kv_type)
        self.flash = QComboBox()
        for label, value in (("Automatic (llama.cpp decides)", None), ("On", True), ("Off", False)):
            self.flash.addItem(label, value)
        form.addRow("Flash attention", self.flash)
        layout.addLayout(form)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.verdict)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setObjectName("loadWarning")
        self.warning.setStyleSheet("color: #b26a00;")
        layout.addWidget(self.warning)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.load_button = self.buttons.addButton("Load", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for w in (self.n_ctx, self.gpu_layers):
            w.valueChanged.connect(self.update_verdict)
        for w in (self.kv_type, self.flash):
            w.currentIndexChanged.connect(self.update_verdict)
        self.fit: hardware.Fit | None = None
        self.update_verdict()

    def update_verdict(self) -> None:
        ctx = self.n_ctx.value()
        self.fit = hardware.recommend(self.shape, self.hw, ctx, self.kv_type.currentData(), self.flash.currentData())
        f = self.fit
        text = f.describe(self.shape.n_layer)
        e = f.estimate
        text += f"\nMemory: model {_size(e.weights)}, KV cache {_size(e.kv_cache)}, working space {_size(e.compute)}."
        if f.n_ctx < ctx and f.verdict != "won't fit":
            text += f"\nAt {ctx:,} tokens it would not fit; {f.n_ctx:,} does."
        if f.notes:
            text += "\n" + "\n".join(f.notes)
        self.verdict.setText(text)
        warnings = []
        if ctx > self.shape.n_ctx_train:
            warnings.append(f"The model was trained on {self.shape.n_ctx_train:,} tokens of context; beyond that its "
                            "answers get worse unless the file enables RoPE scaling (YaRN).")
        if f.verdict == "won't fit":
            warnings.append("This will not fit in this computer's memory: shorten the context, quantize the KV cache, "
                            "or choose a smaller quantization.")
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        self.load_button.setEnabled(f.verdict != "won't fit")

    def choices(self) -> dict:
        """What to load with: context (the largest that fits, up to the one asked), GPU layers
        (the recommendation where asked for), KV type and flash attention."""
        f = self.fit
        layers = f.n_gpu_layers if self.gpu_layers.value() == -2 else self.gpu_layers.value()
        return dict(n_ctx=f.n_ctx, n_gpu_layers=layers, kv_type=self.kv_type.currentData(),
                    flash_attn=self.flash.currentData())


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
