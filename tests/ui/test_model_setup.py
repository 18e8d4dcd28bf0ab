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
    FakeHub.serve_bytes, FakeHub.drop_after, FakeHub.ranges, FakeHub.trickle = {}, None, [], False
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


def test_convert_with_no_network_says_so_in_words(qtbot, tmp_path, monkeypatch):
    # The default repo, a Hub that refuses connections, nothing in the cache.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    dlg = ConvertDialog(tmp_path)
    qtbot.addWidget(dlg)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.start_button.isEnabled(), timeout=60000)
    text = dlg.message.text()
    assert "Could not reach the Hugging Face Hub" in text and "internet connection" in text
    assert "checkpoint folder" in text and "Starting" not in text


def test_a_converter_that_dies_without_a_word_is_reported_from_its_errors(qtbot, tmp_path, monkeypatch):
    import sys

    crash = "import sys; sys.stderr.write('Traceback (most recent call last):\\nRuntimeError: out of cheese\\n'); sys.exit(1)"
    monkeypatch.setattr(ConvertDialog, "program", staticmethod(lambda: (sys.executable, ["-c", crash])))
    dlg = ConvertDialog(tmp_path)
    qtbot.addWidget(dlg)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.start_button.isEnabled(), timeout=30000)
    assert dlg.message.text() == "The conversion stopped (exit code 1): RuntimeError: out of cheese"


def test_listing_and_downloading_with_no_network_say_so_in_words(tmp_path, monkeypatch):
    import pytest
    from huggingface_hub import constants

    from gazal_desktop.core.models import ModelError, RemoteFile, download_gguf, list_repo_ggufs

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    nowhere = "http://127.0.0.1:9"
    with pytest.raises(ModelError) as err:
        list_repo_ggufs("TachyHealth/Gazal-R1-32B-GGUF", endpoint=nowhere)
    assert "no internet connection" in str(err.value) and "Open GGUF file" in str(err.value)
    remote = RemoteFile("TachyHealth/Gazal-R1-32B-GGUF", "gazal-Q4_K_M.gguf", 1000, None, "main")
    with pytest.raises(ModelError) as err:
        download_gguf(remote, tmp_path, endpoint=nowhere)
    assert "no internet connection" in str(err.value) and "Errno" not in str(err.value)
