"""Getting a model: download a GGUF from a Hugging Face repo, or convert a checkpoint.

Downloads run on a worker thread (pause keeps the part, the next start resumes); a
conversion runs gazal-convert as a separate process and follows its JSON progress lines.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QProcess, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.ui.threads import TaskRunner


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class DownloadDialog(QDialog):
    downloaded = Signal(str)

    def __init__(self, models_dir: Path, parent: QWidget | None = None, endpoint: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download a GGUF model")
        self.models_dir, self.endpoint = models_dir, endpoint
        self.runner = TaskRunner(1, self)  # the download's own thread: hours of network work
        self.cancel: CancelToken | None = None
        self._progress = (0, 1)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.repo = QLineEdit()
        self.repo.setPlaceholderText("Hugging Face repo with GGUF files, e.g. org/Gazal-R1-32B-GGUF")
        self.list_button = QPushButton("List files")
        row.addWidget(self.repo, 1)
        row.addWidget(self.list_button)
        layout.addLayout(row)
        self.files = QListWidget()
        layout.addWidget(self.files, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.bar = QProgressBar()
        layout.addWidget(self.bar)
        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Pause")
        self.cancel_button.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.list_button.clicked.connect(self.list_files)
        self.download_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.pause)
        self.resize(620, 420)

    def list_files(self) -> None:
        from gazal_desktop.core.models import list_repo_ggufs

        repo = self.repo.text().strip()
        self.status.setText("Listing files…")
        self.runner.run(lambda: list_repo_ggufs(repo, endpoint=self.endpoint), self._fill,
                        lambda e, tb: self.status.setText(str(e)))

    def _fill(self, files) -> None:
        self.files.clear()
        for f in files:
            item = QListWidgetItem(f"{f.filename}  —  {_size(f.size)}")
            item.setData(256, f)
            self.files.addItem(item)
        self.status.setText(f"{len(files)} GGUF file(s). Pick a quantization (Q4_K_M is about 20 GB for Gazal-R1-32B)."
                            if files else "This repo has no GGUF files.")
        if files:
            self.files.setCurrentRow(0)

    def start(self) -> None:
        from gazal_desktop.core.models import download_gguf

        item = self.files.currentItem()
        if item is None:
            return
        remote = item.data(256)
        self.cancel = CancelToken()
        cancel = self.cancel
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Downloading {remote.filename}…")

        def run(report):
            last = [0.0]

            def progress(done, total):  # on the download thread: at most 10 signals a second
                now = time.monotonic()
                if now - last[0] >= 0.1 or done >= total:
                    last[0] = now
                    report((done, total))

            return str(download_gguf(remote, self.models_dir, progress, cancel, endpoint=self.endpoint))

        self.runner.run(run, self._done, self._failed, on_progress=self._on_progress)

    def _on_progress(self, value) -> None:
        self._progress = value
        self._show_progress()

    def pause(self) -> None:
        if self.cancel is not None:
            self.cancel.cancel()

    def _show_progress(self) -> None:
        done, total = self._progress
        self.bar.setMaximum(1000)
        self.bar.setValue(int(1000 * done / max(total, 1)))
        self.bar.setFormat(f"{_size(done)} of {_size(total)}")

    def _done(self, path: str) -> None:
        self._show_progress()
        self.status.setText(f"Downloaded and verified: {Path(path).name}")
        self.download_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.downloaded.emit(path)

    def _failed(self, exc, tb) -> None:
        self.status.setText(str(exc))
        self.download_button.setEnabled(True)
        self.download_button.setText("Resume")
        self.cancel_button.setEnabled(False)


class ConvertDialog(QDialog):
    """Runs gazal-convert in the background and follows its progress."""

    converted = Signal(str)

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from gazal_convert.fetch import DEFAULT_REPO
        from gazal_convert.quants import DEFAULT_QUANT, QUANT_TYPES

        self.setWindowTitle("Convert a checkpoint to GGUF")
        self.models_dir = models_dir
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.source = QLineEdit(DEFAULT_REPO)
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.source, 1)
        row.addWidget(browse)
        form.addRow("Checkpoint folder or repo", row)
        self.quant = QComboBox()
        for q in QUANT_TYPES.values():
            self.quant.addItem(f"{q.name}  ({q.bpw:.2f} bits/weight)", q.name)
            self.quant.setItemData(self.quant.count() - 1, q.note, 3)  # tooltip
        self.quant.setCurrentIndex(self.quant.findData(DEFAULT_QUANT))
        form.addRow("Output type", self.quant)
        self.stage = QLabel("")
        self.bar = QProgressBar()
        form.addRow(self.stage, self.bar)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form.addRow(self.message)
        buttons = QHBoxLayout()
        self.start_button, self.cancel_button = QPushButton("Convert"), QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.stop)
        self.process: QProcess | None = None
        self._buffer = b""
        self._errors = b""
        self.said_error = False
        self.output: str | None = None
        self.resize(620, 240)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Checkpoint folder")
        if folder:
            self.source.setText(folder)

    def arguments(self) -> list[str]:
        return [self.source.text().strip(), "--quant", self.quant.currentData(),
                "--outdir", str(self.models_dir), "--progress", "json"]

    @staticmethod
    def program() -> tuple[str, list[str]]:
        """gazal-convert: the bundle's own executable beside this one, or this Python's module."""
        if getattr(sys, "frozen", False):
            exe = Path(sys.executable)
            return str(exe.with_name("gazal-convert" + exe.suffix)), []
        return sys.executable, ["-m", "gazal_convert.cli"]

    def start(self) -> None:
        self.output = None
        self.said_error = False
        self._errors = b""
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.readyReadStandardError.connect(self._read_errors)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._not_started)
        program, first = self.program()
        self.process.start(program, first + self.arguments())
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.message.setText("Starting…")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: gazal-convert removes its temporary files

    def _read_errors(self) -> None:
        self._errors = (self._errors + bytes(self.process.readAllStandardError()))[-8000:]

    def _not_started(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.message.setText(f"gazal-convert could not be started ({self.process.errorString()}). "
                                 "Reinstall Gazal Desktop, or run gazal-convert from a terminal.")
            self.start_button.setEnabled(True)
            self.cancel_button.setEnabled(False)

    def _read(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            try:
                ev = json.loads(raw)
            except ValueError:
                continue
            self.handle_event(ev)

    def handle_event(self, ev: dict) -> None:
        kind = ev.get("event")
        if kind == "progress":
            total = ev.get("total_bytes") or 1
            self.stage.setText(ev.get("stage", ""))
            self.bar.setMaximum(1000)
            self.bar.setValue(int(1000 * ev.get("bytes", 0) / total))
            eta = ev.get("eta_s")
            self.bar.setFormat(f"{ev.get('items', 0)}/{ev.get('total_items', 0)} tensors"
                               + (f" · {eta:.0f} s left" if eta else ""))
        elif kind == "message":
            self.message.setText(ev.get("text", ""))
        elif kind == "error":
            self.said_error = True
            self.message.setText(ev.get("message", "The conversion failed."))
        elif kind == "done":
            self.output = ev.get("output")
            self.message.setText(f"Wrote {self.output}")

    def _finished(self, code: int, _status) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if code == 0 and self.output:
            self.converted.emit(self.output)
        elif not self.said_error:  # it stopped without saying why in its progress: say what it printed
            lines = [ln for ln in self._errors.decode("utf-8", "replace").splitlines() if ln.strip()]
            last = lines[-1].strip() if lines else "no message"
            self.message.setText(f"The conversion stopped (exit code {code}): {last}")
