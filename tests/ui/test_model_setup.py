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


def test_download_lists_files_then_downloads_and_verifies(qtbot, tiny_gguf, tmp_path, monkeypatch):
    import threading
    from http.server import ThreadingHTTPServer

    from huggingface_hub import constants

    from core.test_models import REPO, FakeHub
    from gazal_desktop.ui.model_setup import DownloadDialog

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    FakeHub.files = {"gazal-r1-32b-Q4_K_M.gguf": tiny_gguf.read_bytes()}
    FakeHub.serve_bytes, FakeHub.drop_after, FakeHub.ranges = {}, None, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dlg = DownloadDialog(tmp_path, endpoint=f"http://127.0.0.1:{server.server_port}")
        qtbot.addWidget(dlg)
        dlg.repo.setText(REPO)
        dlg.list_button.click()
        qtbot.waitUntil(lambda: dlg.files.count() == 1, timeout=10000)
        assert "gazal-r1-32b-Q4_K_M.gguf" in dlg.files.item(0).text() and "MB" in dlg.files.item(0).text()
        with qtbot.waitSignal(dlg.downloaded, timeout=20000) as blocker:
            dlg.download_button.click()
        path = Path(blocker.args[0])
        assert path.read_bytes() == tiny_gguf.read_bytes()
        assert "verified" in dlg.status.text() and dlg.bar.value() == dlg.bar.maximum()
        # A broken connection is reported; the part is kept and Download becomes Resume.
        FakeHub.files = {"other-Q8_0.gguf": b"y" * 300_000}
        FakeHub.drop_after = 100_000
        dlg.list_button.click()
        qtbot.waitUntil(lambda: dlg.files.count() == 1 and "other" in dlg.files.item(0).text(), timeout=10000)
        dlg.download_button.click()
        qtbot.waitUntil(lambda: dlg.download_button.text() == "Resume", timeout=20000)
        assert "resume" in dlg.status.text().lower() and not (tmp_path / "other-Q8_0.gguf").exists()
        FakeHub.drop_after = None
        with qtbot.waitSignal(dlg.downloaded, timeout=20000):
            dlg.download_button.click()
        assert (tmp_path / "other-Q8_0.gguf").read_bytes() == b"y" * 300_000
    finally:
        server.shutdown()
