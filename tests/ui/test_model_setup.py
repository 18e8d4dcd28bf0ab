"""Model setup dialogs: a real background conversion with progress, and its cancellation."""

from __future__ import annotations

from pathlib import Path

from gazal_convert.synthetic import SyntheticSpec
from gazal_desktop.ui.model_setup import ConvertDialog


def test_convert_runs_gazal_convert_in_the_background_with_progress(qtbot, models, tmp_path):
    folder = models.checkpoint(SyntheticSpec())
    dlg = ConvertDialog(tmp_path)
    qtbot.addWidget(dlg)
    dlg.source.setText(str(folder))
    dlg.quant.setCurrentIndex(dlg.quant.findData("q8_0"))
    stages = []
    dlg.bar.valueChanged.connect(lambda v: stages.append(dlg.stage.text()))
    with qtbot.waitSignal(dlg.converted, timeout=60000) as blocker:
        dlg.start()
    out = Path(blocker.args[0])
    assert out.parent == tmp_path and out.suffix == ".gguf" and out.stat().st_size > 0
    assert "Converting" in stages and dlg.bar.value() == dlg.bar.maximum()
    assert dlg.message.text().startswith("Wrote ")


def test_a_failed_conversion_says_why(qtbot, tmp_path):
    dlg = ConvertDialog(tmp_path)
    qtbot.addWidget(dlg)
    dlg.source.setText(str(tmp_path / "missing-folder"))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.start_button.isEnabled(), timeout=30000)
    assert "No such folder" in dlg.message.text()
    assert list(tmp_path.glob("*.gguf")) == []
